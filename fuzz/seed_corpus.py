#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the conformance cases (response bodies,
challenge headers, image references, STS options) and the official SigV4
suites (signing inputs), so each fuzz target starts from real protocol data.
Usage, from the repository root:

    python3 fuzz/seed_corpus.py [CASES_DIR...]

CASES_DIR defaults to $CLOUDAUTH_CASES (else ../shared/conformance/cases
beside the repository) and the project's own tests/cases; the SigV4 suites
are read from the first `sigv4` folder beside a cases directory (aws-c-auth-v4 and
botocore-aws4_testsuite).
Response seeds whose status is not 200 get the fuzz targets' status prefix
(0xFF, then the status as two big-endian bytes).
"""
import calendar
import hashlib
import os
import json
import pathlib
import struct
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
DIRS = [pathlib.Path(a) for a in sys.argv[1:]] or [
    pathlib.Path(os.environ.get("CLOUDAUTH_CASES", HERE.parent.parent / "shared" / "conformance" / "cases")),
    HERE.parent / "tests" / "cases",
]

# The `sigv4` target's methods, in its order (fuzz_targets/sigv4.rs).
SIGV4_METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]
# The botocore suite's key pair (its README).
BOTOCORE_ACCESS_KEY = "AKIDEXAMPLE"

RESPONSES = {
    "azure.entra-token.response": "entra_token",
    "azure.imds-token.response": "imds_token",
    "azure.acr-exchange.response": "acr_exchange",
    "azure.acr-token.response": "acr_token",
    "aws.ecr-token.response": "ecr_token",
    "aws.sts-web-identity.response": "sts_xml",
    "gcp.sts-exchange.response": "gcp_sts",
    "gcp.impersonation.response": "gcp_impersonation",
    "gcp.metadata-token.response": "gcp_metadata",
    "kubernetes.token-request.response": "kubernetes_token",
    "oci.token.response": "oci_token",
}


# The component's size limits (http::MAX_RESPONSE_BODY, response::MAX_XML_BODY).
MAX_BODY = 1 << 20
MAX_XML_BODY = 32 * 1024


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def sigv4_field(data):
    if isinstance(data, str):
        data = data.encode()
    return struct.pack(">H", len(data)) + data


def sigv4_input(method, url, headers, body, now, access_key_id, region, service,
                token=None, token_after=False, normalize=True, sign_body=False, presign=None):
    """One input in the `sigv4` target's format (see fuzz_targets/sigv4.rs)."""
    flags = (normalize * 1) | (sign_body * 2) | (token_after * 4) | ((presign is not None) * 8)
    flags |= (token is not None) * 16 | SIGV4_METHODS.index(method) << 5
    out = bytes([flags]) + struct.pack(">qI", now, presign or 0)
    for field in [url, access_key_id, token or "", region, service, body]:
        out += sigv4_field(field)
    out += bytes([0])  # no unsigned headers
    for name, value in headers:
        out += sigv4_field(name) + sigv4_field(value)
    return out


def parse_raw_request(text):
    """`METHOD target HTTP/1.1`, header lines (a leading space continues the
    previous value), a blank line, the body: as tests/sigv4.rs reads them."""
    text = text.replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    lines = head.rstrip("\n").split("\n")
    method, rest = lines[0].split(" ", 1)
    target = rest.rsplit(" ", 1)[0]
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
        elif ":" in line:
            name, value = line.split(":", 1)
            headers.append((name, value.strip()))
    host = next((v for n, v in headers if n.lower() == "host"), "example.amazonaws.com")
    return method, f"https://{host}{target}", headers, body


def amz_seconds(stamp):
    return calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))


def seed_sigv4(root):
    """Every case of both SigV4 suites, header-signed and (aws-c-auth-v4)
    presigned, as `sigv4` target inputs."""
    count = 0
    for case in sorted((root / "aws-c-auth-v4").glob("*/context.json")):
        ctx = json.loads(case.read_text())
        method, url, headers, body = parse_raw_request((case.parent / "request.txt").read_text())
        if method not in SIGV4_METHODS:
            continue
        creds = ctx["credentials"]
        now = calendar.timegm(time.strptime(ctx["timestamp"], "%Y-%m-%dT%H:%M:%SZ"))
        common = dict(method=method, url=url, headers=headers, body=body, now=now,
                      access_key_id=creds["access_key_id"], region=ctx["region"], service=ctx["service"],
                      token=creds.get("token"), token_after=bool(ctx.get("omit_session_token")),
                      normalize=bool(ctx.get("normalize")), sign_body=bool(ctx.get("sign_body")))
        write("sigv4", sigv4_input(**common))
        write("sigv4", sigv4_input(**common, presign=int(ctx.get("expiration_in_seconds", 3600))))
        count += 2
    for req in sorted((root / "botocore-aws4_testsuite").glob("**/*.req")):
        sts = req.with_suffix(".sts")
        if not sts.exists():
            continue
        _, stamp, scope, _ = (sts.read_text().split("\n") + ["", "", "", ""])[:4]
        _, region, service, _ = (scope.split("/") + ["", "", "", ""])[:4]
        method, url, headers, body = parse_raw_request(req.read_text())
        if method not in SIGV4_METHODS:
            continue
        sreq = req.with_suffix(".sreq").read_text() if req.with_suffix(".sreq").exists() else ""
        _, _, signed_headers, _ = parse_raw_request(sreq) if sreq else (None, None, [], None)
        token = next((v for n, v in signed_headers if n.lower() == "x-amz-security-token"), None)
        creq = req.with_suffix(".creq").read_text() if req.with_suffix(".creq").exists() else ""
        write("sigv4", sigv4_input(method, url, headers, body, amz_seconds(stamp), BOTOCORE_ACCESS_KEY, region,
                                   service, token=token,
                                   token_after=token is not None and "\nx-amz-security-token:" not in creq))
        count += 1
    return count


def main():
    dirs = [d for d in DIRS if d.is_dir()]
    if not dirs:
        sys.exit(f"no cases directory among {[str(d) for d in DIRS]}")
    count = 0
    first_body = {}
    for path in sorted(p for d in dirs for p in d.glob("*.json")):
        doc = json.loads(path.read_text())
        op = doc.get("op", "")
        for case in doc.get("cases", []):
            inp = case.get("input", {})
            if op in RESPONSES and isinstance(inp.get("body"), str):
                body = inp["body"].encode()
                status = int(inp.get("status", 200))
                if status != 200:
                    body = bytes([0xFF]) + status.to_bytes(2, "big") + body
                write(RESPONSES[op], body)
                if status == 200:
                    first_body.setdefault(RESPONSES[op], body)
                # JWTs inside token responses seed the JWT target.
                for word in inp["body"].replace('"', " ").split():
                    if word.startswith("eyJ") and word.count(".") == 2:
                        write("jwt_expiry", word)
            elif op == "oci.challenge" and isinstance(inp.get("header"), str):
                write("parse_challenge", inp["header"])
            elif op.startswith("registry.") and isinstance(inp.get("reference"), str):
                write("resolve_registry", inp["reference"])
            elif op == "gcp.sts-exchange.request" and inp.get("options") is not None:
                options = inp["options"]
                write("gcp_options", options if isinstance(options, str) else json.dumps(options))
            else:
                continue
            count += 1
    # A valid body padded with trailing whitespace to just under and just over
    # each size limit, so the fuzzers start at the limits (run_all.sh gives
    # these targets a -max_len above them).
    for target, body in first_body.items():
        limit = MAX_XML_BODY if target == "sts_xml" else MAX_BODY
        for size in (limit, limit + 1):
            write(target, body + b" " * (size - len(body)))
    for stamp in ["2024-01-15T12:00:00Z", "2024-01-15T13:00:00.123456+01:00", "2100-01-01T00:00:00Z"]:
        write("rfc3339", stamp)
    suites = next((d.parent / "sigv4" for d in dirs if (d.parent / "sigv4").is_dir()), None)
    if suites:
        signed = seed_sigv4(suites)
        print(f"seeded {signed} signing inputs from {suites}")
    print(f"seeded {count} inputs from {', '.join(str(d) for d in dirs)}")


main()
