#!/usr/bin/env python3
"""A tiny distribution token server for the end-to-end test.

It implements the parts of the Docker registry token protocol
(distribution's docs/spec/auth/token.md and oauth.md) that registry
clients use:

* ``GET /token?service=..&scope=..`` with HTTP basic credentials;
* ``POST /token`` with ``grant_type=password`` or ``grant_type=refresh_token``
  (the OAuth2 flavour clients use when they hold an identity token).

Tokens are JWTs signed RS256 with a key whose self-signed certificate is
the registry's ``rootcertbundle``; the certificate travels in the ``x5c``
header, which distribution 2.8 verifies against that bundle. A token this
server issued is also accepted as a refresh token (OAuth2 form, or basic
credentials with the user name ``<token>``), the way ACR accepts its refresh
tokens: the docker credential-helper protocol hands token credentials to
clients as an identity token.

Only the Python standard library and the ``openssl`` command are used.
Listens on 127.0.0.1 only, and exits by itself after ``--max-seconds``.
"""

import argparse
import base64
import binascii
import hmac
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 64 * 1024


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pem_to_der(pem: str) -> bytes:
    body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
    return base64.b64decode(body)


class Issuer:
    """Signs tokens and remembers the ones it issued (for refresh)."""

    def __init__(self, issuer: str, service: str, signing_key: str, signing_cert: str, lifetime: int):
        self.issuer = issuer
        self.service = service
        self.signing_key = signing_key
        self.lifetime = lifetime
        with open(signing_cert) as f:
            self.x5c = [base64.b64encode(pem_to_der(f.read())).decode()]
        self.issued: dict[str, tuple[str, int]] = {}
        self.lock = threading.Lock()

    def sign(self, data: bytes) -> bytes:
        done = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.signing_key],
            input=data,
            capture_output=True,
            check=True,
            timeout=10,
        )
        return done.stdout

    def issue(self, subject: str, scopes: list[str]) -> dict:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + self.lifetime,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": grant(scopes),
        }
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        token = f"{signing_input}.{b64url(self.sign(signing_input.encode()))}"
        with self.lock:
            self.issued[token] = (subject, now + self.lifetime)
        return {
            "token": token,
            "access_token": token,
            "expires_in": self.lifetime,
            "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        }

    def subject_of(self, token: str):
        with self.lock:
            found = self.issued.get(token)
        if found is None or found[1] < time.time():
            return None
        return found[0]


def grant(scopes: list[str]) -> list[dict]:
    """Every repository action asked for: the test has one all-powerful user."""
    access = []
    for scope in scopes:
        for one in scope.split(" "):
            parts = one.split(":")
            if len(parts) >= 3 and parts[0] == "repository":
                name = ":".join(parts[1:-1])
                actions = [a for a in parts[-1].split(",") if a in ("pull", "push", "delete", "*")]
                access.append({"type": "repository", "name": name, "actions": actions})
    return access


class Handler(BaseHTTPRequestHandler):
    server_version = "cloudauth-e2e-token-server"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # never log query strings or headers
        pass

    def log(self, outcome: str, detail: str = ""):
        sys.stderr.write(f"token-server: {self.command} {urlsplit(self.path).path} -> {outcome} {detail}\n")
        sys.stderr.flush()

    def reply(self, status: int, body: dict, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def unauthorized(self, why: str):
        self.log("401", why)
        self.reply(
            401,
            {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": why}]},
            [("WWW-Authenticate", 'Basic realm="cloudauth-e2e"')],
        )

    def authenticate(self, username: str, password: str):
        """The subject for these credentials, or None."""
        if username == "<token>":
            return self.server.issuer.subject_of(password)
        expected = self.server.users.get(username)
        if expected is not None and hmac.compare_digest(expected.encode(), password.encode()):
            return username
        return None

    def basic(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            decoded = base64.b64decode(header[len("Basic ") :], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, password = decoded.partition(":")
        return (username, password) if sep else None

    def check_service(self, service) -> bool:
        if service != self.server.issuer.service:
            self.log("400", f"unknown service {service!r}")
            self.reply(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
            return False
        return True

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path != "/token":
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
            return
        query = parse_qs(url.query)
        if not self.check_service(query.get("service", [None])[0]):
            return
        credentials = self.basic()
        if credentials is None:
            self.unauthorized("no basic credentials")
            return
        subject = self.authenticate(*credentials)
        if subject is None:
            self.unauthorized(f"bad credentials for {credentials[0]!r}")
            return
        self.log("200", f"basic, subject {subject!r}, scopes {query.get('scope', [])}")
        self.reply(200, self.server.issuer.issue(subject, query.get("scope", [])))

    def read_body(self):
        """The request body, plain or chunked (Go's client sends a form
        body of unknown length chunked); None when over the limit."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
                if len(body) + size > MAX_BODY:
                    return None
                body += self.rfile.read(size)
                self.rfile.readline(100)  # the CRLF after the chunk
                if size == 0:
                    return body
        length = int(self.headers.get("Content-Length") or 0)
        return None if length > MAX_BODY else self.rfile.read(length)

    def do_POST(self):
        url = urlsplit(self.path)
        body = self.read_body()
        if url.path != "/token" or body is None:
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
            return
        # The parameters are form fields; some clients also put them in the query.
        form = parse_qs(url.query)
        for name, values in parse_qs(body.decode(errors="replace")).items():
            form.setdefault(name, []).extend(values)
        one = lambda name: form.get(name, [None])[0]  # noqa: E731
        if not self.check_service(one("service")):
            return
        grant_type = one("grant_type")
        if grant_type == "refresh_token":
            subject = self.server.issuer.subject_of(one("refresh_token") or "")
        elif grant_type == "password":
            subject = self.authenticate(one("username") or "", one("password") or "")
        else:
            self.log("400", f"grant_type {grant_type!r}")
            self.reply(400, {"error": "unsupported_grant_type"})
            return
        if subject is None:
            self.log("401", f"{grant_type} refused")
            self.reply(401, {"error": "invalid_grant"})
            return
        scopes = [s for value in form.get("scope", []) for s in value.split(" ") if s]
        self.log("200", f"{grant_type}, subject {subject!r}, scopes {scopes}")
        answer = self.server.issuer.issue(subject, scopes)
        answer["refresh_token"] = answer["token"]
        self.reply(200, answer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True, help="where to write the port listened on")
    parser.add_argument("--tls-cert", required=True)
    parser.add_argument("--tls-key", required=True)
    parser.add_argument("--signing-key", required=True)
    parser.add_argument("--signing-cert", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--user", action="append", default=[], help="NAME:PASSWORD, repeatable")
    parser.add_argument("--lifetime", type=int, default=300)
    parser.add_argument("--max-seconds", type=int, default=600)
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.issuer = Issuer(args.issuer, args.service, args.signing_key, args.signing_cert, args.lifetime)
    server.users = dict(user.split(":", 1) for user in args.user)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)

    # Never outlive the test, whatever happens to the script that started us.
    threading.Timer(args.max_seconds, lambda: os._exit(3)).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
