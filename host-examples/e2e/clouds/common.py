"""Shared pieces of the loopback clouds (test-only fakes).

* ``serve``: a threaded HTTPS (or HTTP) server on one address, TLS from the
  test's throw-away CA, that exits by itself after ``max_seconds``.
* ``Handler``: JSON replies, bounded bodies, form parsing, basic auth, and a
  log line per request that never holds a query, a header value or a body.
* ``Issuer``: distribution registry tokens (RS256 JWTs with an ``x5c``
  header), from ``token_server.py`` next door, so that the real
  distribution registry behind every fake verifies what the fakes issue.
* ``RegistryFront``: what a cloud registry's own host does besides
  storage: its token endpoints are the fake's, ``/v2/`` is forwarded,
  streamed, to the distribution registry, with the registry's challenge
  rewritten to the cloud's realm and service.
"""

import base64
import binascii
import http.client
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from token_server import Issuer  # noqa: E402  (the e2e token server's signer)

MAX_BODY = 64 * 1024


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def jwt_claims(token: str):
    """The claims of a JWT, unverified (the fakes check tokens they issued
    by exact match; this is for reading ``exp``/``sub``)."""
    try:
        return json.loads(b64url_decode(token.split(".")[1]))
    except (IndexError, ValueError, binascii.Error):
        return None


def unsigned_jwt(claims: dict) -> str:
    """A JWT the fakes hand out as an opaque access token: readable claims
    (``exp`` for clients that read it), an HMAC-free ``none`` signature
    that nobody verifies; the fakes recognise their tokens by exact match."""
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.c2ln"


class Tokens:
    """Opaque tokens a fake issued, with their subject and expiry."""

    def __init__(self):
        self.lock = threading.Lock()
        self.issued = {}

    def issue(self, subject: str, lifetime: int, **claims) -> str:
        now = int(time.time())
        token = unsigned_jwt({"sub": subject, "iat": now, "exp": now + lifetime, "jti": os.urandom(8).hex(), **claims})
        with self.lock:
            self.issued[token] = (subject, now + lifetime)
        return token

    def subject(self, token: str):
        with self.lock:
            found = self.issued.get(token)
        if found is None or found[1] < time.time():
            return None
        return found[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    name = "fake"

    def log_message(self, fmt, *args):  # the default logs the query
        pass

    def log(self, outcome, detail=""):
        sys.stderr.write(f"{self.name}: {self.command} {self.headers.get('Host', '')}{urlsplit(self.path).path} -> {outcome} {detail}\n")
        sys.stderr.flush()

    def reply(self, status, body, headers=(), content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
                if len(body) + size > MAX_BODY:
                    return None
                body += self.rfile.read(size)
                self.rfile.readline(100)
                if size == 0:
                    return body
        length = int(self.headers.get("Content-Length") or 0)
        return None if length > MAX_BODY else self.rfile.read(length)

    def form(self):
        body = self.read_body() or b""
        return {k: v[0] for k, v in parse_qs(body.decode(errors="replace"), keep_blank_values=True).items()}

    def query(self):
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}

    def basic(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, sep, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None

    def bearer(self):
        header = self.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else None


class RegistryFront:
    """Forwards ``/v2/`` requests to the distribution registry and rewrites
    its challenge into the cloud's."""

    def __init__(self, backend: str, ca_file: str, realm: str, service: str, scheme="Bearer"):
        self.host, port = backend.rsplit(":", 1)
        self.port = int(port)
        self.context = ssl.create_default_context(cafile=ca_file)
        self.realm = realm
        self.service = service
        self.scheme = scheme

    def challenge(self, backend_challenge: str) -> str:
        if self.scheme == "Basic":
            return f'Basic realm="{self.realm}",service="{self.service}"'
        scope = ""
        if 'scope="' in backend_challenge:
            scope = ',scope="' + backend_challenge.split('scope="', 1)[1].split('"', 1)[0] + '"'
        return f'Bearer realm="{self.realm}",service="{self.service}"{scope}'

    def forward(self, handler: Handler, authorization):
        """Sends the request on with ``authorization`` (or none), streams the
        answer back; a 401 carries the cloud's challenge."""
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=60)
        headers = {}
        for name in ("Accept", "Range", "User-Agent"):
            values = handler.headers.get_all(name)
            if values:
                headers[name] = ", ".join(values)
        headers["Host"] = handler.headers.get("Host", self.host)
        if authorization:
            headers["Authorization"] = authorization
        try:
            connection.request(handler.command, handler.path, headers=headers)
            response = connection.getresponse()
            handler.send_response(response.status)
            for name, value in response.getheaders():
                lower = name.lower()
                if lower in ("connection", "transfer-encoding", "keep-alive"):
                    continue
                if lower == "www-authenticate":
                    value = self.challenge(value)
                handler.send_header(name, value)
            length = response.getheader("Content-Length")
            if length is None and handler.command != "HEAD":
                handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            if handler.command == "HEAD":
                return response.status
            while True:
                chunk = response.read(64 * 1024)
                if not chunk:
                    break
                if length is None:
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                else:
                    handler.wfile.write(chunk)
            if length is None:
                handler.wfile.write(b"0\r\n\r\n")
            return response.status
        finally:
            connection.close()


def serve(handler_class, listen: str, cert: str, key: str, max_seconds: int, **attributes):
    """Runs ``handler_class`` on ``listen`` (``ip:port``; TLS unless
    ``cert`` is empty) in a daemon thread; returns the server."""
    host, port = listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), handler_class)
    server.daemon_threads = True
    for name, value in attributes.items():
        setattr(server, name, value)
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_forever(max_seconds: int, ready_file: str):
    """Signals readiness, then keeps the process alive, bounded."""
    threading.Timer(max_seconds, lambda: os._exit(3)).start()
    Path(ready_file).write_text("ready\n")
    threading.Event().wait()


def issuer(args) -> Issuer:
    """The distribution token signer all fakes share with the registry."""
    return Issuer(args.issuer, args.registry_service, args.signing_key, args.signing_cert, 300)


def add_common_arguments(parser):
    parser.add_argument("--tls-cert", required=True)
    parser.add_argument("--tls-key", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--signing-key", required=True)
    parser.add_argument("--signing-cert", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--registry-service", required=True, help="the distribution registry's token audience")
    parser.add_argument("--backend", default="", help="the distribution registry, ip:port")
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--max-seconds", type=int, default=900)
