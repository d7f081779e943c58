#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the conformance cases (response bodies,
challenge headers, image references, STS options), so each fuzz target
starts from real protocol data. Usage, from the repository root:

    python3 fuzz/seed_corpus.py [CASES_DIR...]

CASES_DIR defaults to ../shared/conformance/cases beside the repository and
the project's own tests/cases.
Response seeds whose status is not 200 get the fuzz targets' status prefix
(0xFF, then the status as two big-endian bytes).
"""
import hashlib
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
DIRS = [pathlib.Path(a) for a in sys.argv[1:]] or [
    HERE.parent.parent / "shared" / "conformance" / "cases",
    HERE.parent / "tests" / "cases",
]

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


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    dirs = [d for d in DIRS if d.is_dir()]
    if not dirs:
        sys.exit(f"no cases directory among {[str(d) for d in DIRS]}")
    count = 0
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
    for stamp in ["2024-01-15T12:00:00Z", "2024-01-15T13:00:00.123456+01:00", "2100-01-01T00:00:00Z"]:
        write("rfc3339", stamp)
    print(f"seeded {count} inputs from {', '.join(str(d) for d in dirs)}")


main()
