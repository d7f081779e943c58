#!/usr/bin/env python3
"""Writes the conformance cases whose expected requests carry an RS256 JWT:
tests/cases/session.request.azure-client-certificate.json and
tests/cases/session.request.github-app.json.

The expectations come from the documents, never from cloudauth: the header
and claims as Microsoft's "certificate credentials" page and GitHub's
"Generating a JSON Web Token (JWT) for a GitHub App" page (with Flux's
iat - 30 s / two-minute lifetime) define them, serialized as compact JSON
with sorted keys, and the signature made by `openssl dgst -sha256 -sign`
(RSASSA-PKCS1-v1_5 is deterministic). The certificate thumbprint is
`openssl x509 -outform DER | openssl dgst -sha256`.

Run from the repository root: python3 tests/data/make_signed_cases.py
"""

import base64
import hashlib
import json
import subprocess
from pathlib import Path

DATA = Path("tests/data")
CASES = Path("tests/cases")
NOW = 1705320000  # 2024-01-15T12:00:00Z
TENANT = "72f988bf-0000-4000-8000-00000000a11e"
CLIENT = "0d0e0a0d-beef-4000-8000-00000000c1d0"
ARM = "https://management.azure.com/.default"
CERT_PATH = "/var/run/secrets/azure/client-certificate.pem"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def openssl(*args: str, data: bytes = b"") -> bytes:
    return subprocess.run(["openssl", *args], input=data, check=True, capture_output=True).stdout


def sign(header: dict, claims: dict, key: Path) -> str:
    signing_input = b64url(compact(header)) + "." + b64url(compact(claims))
    signature = openssl("dgst", "-sha256", "-sign", str(key), data=signing_input.encode())
    return signing_input + "." + b64url(signature)


def der(pem: Path) -> bytes:
    return openssl("x509", "-in", str(pem), "-outform", "DER")


def jti(client: str, thumbprint: str, now: int) -> str:
    """cloudauth's documented deterministic jti: SHA-256 of the lines
    client id, thumbprint, now; the first 16 bytes shaped as a v4 UUID."""
    b = bytearray(hashlib.sha256(f"{client}\n{thumbprint}\n{now}\n".encode()).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def azure_assertion(token_url: str, chain: bool) -> str:
    leaf = der(DATA / "test-client-cert.pem")
    thumbprint = b64url(hashlib.sha256(leaf).digest())
    header = {"alg": "RS256", "typ": "JWT", "x5t#S256": thumbprint}
    if chain:
        header["x5c"] = [base64.b64encode(d).decode() for d in (leaf, der(DATA / "test-ca-cert.pem"))]
    claims = {
        "aud": token_url,
        "exp": NOW + 600,
        "iat": NOW,
        "iss": CLIENT,
        "jti": jti(CLIENT, thumbprint, NOW),
        "nbf": NOW,
        "sub": CLIENT,
    }
    return sign(header, claims, DATA / "test-rsa-pkcs8.pem")


def entra_request(authority: str, assertion: str) -> dict:
    return {
        "method": "POST",
        "url": f"{authority}/{TENANT}/oauth2/v2.0/token",
        "form": [
            ["client_assertion", assertion],
            ["client_assertion_type", JWT_BEARER],
            ["client_id", CLIENT],
            ["grant_type", "client_credentials"],
            ["scope", ARM],
        ],
    }


def azure_cases() -> dict:
    env = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT, "AZURE_CLIENT_CERTIFICATE_PATH": CERT_PATH}
    src = (
        "Microsoft identity platform, 'Certificate credentials' (assertion header alg/typ/x5t#S256, claims "
        "aud = token endpoint, iss = sub = client id, jti, nbf, iat, exp); azure-identity EnvironmentCredential "
        "variables; MSAL's ten-minute lifetime. Expected JWT signed by openssl (tests/data/make_signed_cases.py)."
    )
    text = lambda name: (DATA / name).read_text()
    public = "https://login.microsoftonline.com"
    usgov = "https://login.microsoftonline.us"
    cases = [
        {
            "id": "azure-client-certificate-pem",
            "source": src,
            "input": {"provider": "azure", "scopes": [ARM], "environment": env,
                      "answers": [{"file": text("test-client-cert-and-key.pem")}], "now": NOW},
            "expect": {"request": entra_request(public, azure_assertion(f"{public}/{TENANT}/oauth2/v2.0/token", False))},
        },
        {
            "id": "azure-client-certificate-chain-authority-host",
            "source": src + " AZURE_CLIENT_SEND_CERTIFICATE_CHAIN adds x5c (azidentity SendCertificateChain), leaf first.",
            "input": {"provider": "azure", "scopes": [ARM],
                      "environment": {**env, "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN": "true", "AZURE_AUTHORITY_HOST": usgov},
                      "answers": [{"file": text("test-client-key-then-chain.pem")}], "now": NOW},
            "expect": {"request": entra_request(usgov, azure_assertion(f"{usgov}/{TENANT}/oauth2/v2.0/token", True))},
        },
        {
            "id": "azure-client-certificate-file-missing",
            "source": "a configured source never falls back: the missing file is an error naming AZURE_CLIENT_CERTIFICATE_PATH",
            "input": {"provider": "azure", "scopes": [ARM], "environment": env, "answers": [{"file": None}], "now": NOW},
            "expect": {"error": {"kind": "invalid-input"}},
        },
        {
            "id": "azure-client-certificate-without-key",
            "source": "azure-identity ParseCertificates: the file must hold the private key",
            "input": {"provider": "azure", "scopes": [ARM], "environment": env,
                      "answers": [{"file": text("test-client-cert.pem")}], "now": NOW},
            "expect": {"error": {"kind": "invalid-input"}},
        },
        {
            "id": "azure-client-certificate-encrypted-key",
            "source": "hand-written: an encrypted PKCS#8 key needs AZURE_CLIENT_CERTIFICATE_PASSWORD, which is not supported",
            "input": {"provider": "azure", "scopes": [ARM], "environment": env,
                      "answers": [{"file": text("test-client-cert-encrypted-key.pem")}], "now": NOW},
            "expect": {"error": {"kind": "unsupported"}},
        },
        {
            "id": "azure-client-certificate-password",
            "source": "azure-identity EnvironmentCredential reads AZURE_CLIENT_CERTIFICATE_PASSWORD (PKCS#12 or encrypted PEM); not supported",
            "input": {"provider": "azure", "scopes": [ARM],
                      "environment": {**env, "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pfx-password"}, "now": NOW},
            "expect": {"error": {"kind": "unsupported"}},
        },
    ]
    return {"op": "session.request", "cases": cases}


def github_jwt(app_id: int) -> str:
    iat = NOW - 30
    return sign({"alg": "RS256", "typ": "JWT"}, {"exp": iat + 120, "iat": iat, "iss": str(app_id)},
                DATA / "test-rsa-pkcs1.pem")


def github_request(method: str, url: str, jwt: str) -> dict:
    return {
        "method": method,
        "url": url,
        "headers": {
            "Accept": "application/vnd.github.v3+json",
            "Authorization": f"Bearer {jwt}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    }


def github_cases() -> dict:
    key = (DATA / "test-rsa-pkcs1.pem").read_text()
    jwt = github_jwt(123456)
    app = lambda **kw: {"url": "https://github.com/octo-org/app.git", "app_id": "123456", "private_key": key, **kw}
    src = (
        "GitHub REST docs, 'Create an installation access token for an app' (POST /app/installations/{installation_id}/"
        "access_tokens, Bearer app JWT) and 'Generating a JSON Web Token (JWT) for a GitHub App' (RS256, iss = app id); "
        "fluxcd/pkg auth/githubapp (iat = now - 30 s, exp = iat + 2 min) through go-github (Accept v3, "
        "X-GitHub-Api-Version 2022-11-28). Expected JWT signed by openssl (tests/data/make_signed_cases.py)."
    )
    lookup = "GitHub REST docs, 'Get an organization installation for the authenticated app' / 'Get a user installation'; fluxcd/pkg getInstallationID (organization first, then user)"
    token_example = json.dumps({
        "token": "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
        "expires_at": "2016-07-11T22:14:10Z",
        "permissions": {"issues": "write", "contents": "read"},
        "repository_selection": "selected",
    })
    installation_example = json.dumps({"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"},
                                       "app_id": 1, "target_type": "Organization"})
    not_found = json.dumps({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"})
    bad_credentials = json.dumps({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
    base = "https://api.github.com"
    cases = [
        {"id": "github-app-installation-id", "source": src,
         "input": {"github_app": app(installation_id="42"), "now": NOW},
         "expect": {"request": github_request("POST", f"{base}/app/installations/42/access_tokens", jwt)}},
        {"id": "github-app-owner-organization-lookup", "source": lookup,
         "input": {"github_app": app(installation_owner="octo-org"), "now": NOW},
         "expect": {"request": github_request("GET", f"{base}/orgs/octo-org/installation", jwt)}},
        {"id": "github-app-owner-user-lookup-after-404", "source": lookup,
         "input": {"github_app": app(installation_owner="octo-org"), "answers": [{"status": 404, "body": not_found}], "now": NOW},
         "expect": {"request": github_request("GET", f"{base}/users/octo-org/installation", jwt)}},
        {"id": "github-app-owner-token-after-lookup", "source": lookup + "; the installation's id from the docs' example",
         "input": {"github_app": app(installation_owner="octo-org"), "answers": [{"status": 200, "body": installation_example}], "now": NOW},
         "expect": {"request": github_request("POST", f"{base}/app/installations/1/access_tokens", jwt)}},
        {"id": "github-enterprise-server-base-url", "source": src + " GitHub Enterprise Server's API is https://<host>/api/v3 (githubAppBaseURL kept as given, as Flux does)",
         "input": {"github_app": app(url="https://ghe.example.com/octo-org/app.git", installation_id="42",
                                     base_url="https://ghe.example.com/api/v3"), "now": NOW},
         "expect": {"request": github_request("POST", "https://ghe.example.com/api/v3/app/installations/42/access_tokens", jwt)}},
        {"id": "github-app-bad-credentials", "source": "GitHub REST docs: 401 with message 'Bad credentials'",
         "input": {"github_app": app(installation_id="42"), "answers": [{"status": 401, "body": bad_credentials}], "now": NOW},
         "expect": {"error": {"kind": "http-status", "code": None}}},
        {"id": "github-app-token-expired", "source": "GitHub REST docs' example response (expires_at 2016-07-11T22:14:10Z), received in 2024: already expired",
         "input": {"github_app": app(installation_id="42"), "answers": [{"status": 201, "body": token_example}], "now": NOW},
         "expect": {"error": {"kind": "malformed-response"}}},
        {"id": "github-app-both-owner-and-id", "source": "fluxcd/pkg auth/githubapp New: 'only one of app installation owner or ID must be provided'",
         "input": {"github_app": app(installation_id="42", installation_owner="octo-org"), "now": NOW},
         "expect": {"error": {"kind": "invalid-input"}}},
        {"id": "github-app-no-private-key", "source": "fluxcd/pkg auth/githubapp New: 'private key must be provided'",
         "input": {"github_app": {**app(installation_id="42"), "private_key": ""}, "now": NOW},
         "expect": {"error": {"kind": "invalid-input"}}},
        {"id": "github-app-url-on-another-host", "source": "hand-written: the token is only handed out for a URL on the API's Git host",
         "input": {"github_app": app(url="https://gitlab.example/octo-org/app.git", installation_id="42"), "now": NOW},
         "expect": {"error": {"kind": "invalid-input"}}},
        {"id": "github-app-http-base-url", "source": "hand-written: the JWT and the token are credentials; https:// only",
         "input": {"github_app": app(url="https://ghe.example.com/o/r", installation_id="42", base_url="http://ghe.example.com/api/v3"), "now": NOW},
         "expect": {"error": {"kind": "invalid-input"}}},
    ]
    return {"op": "session.request", "cases": cases}


for name, doc in [("session.request.azure-client-certificate.json", azure_cases()),
                  ("session.request.github-app.json", github_cases())]:
    (CASES / name).write_text(json.dumps(doc, indent=1) + "\n")
    print("wrote", CASES / name)
