#!/usr/bin/env python3
"""The generic registry's helpers for the end-to-end test and the load
benchmark (test-only):

* a distribution token server (distribution's ``docs/spec/auth/token.md``:
  ``GET /token?service=&scope=`` with basic credentials) that grants each
  user only the repositories under its own prefixes, as a real registry's
  access control does, so that credentials mixed between identities show
  up as refused pulls;
* a blob store: the registry's ``redirect`` storage middleware sends blob
  reads here (as cloud registries send them to object storage); it serves
  the registry's files and counts requests that arrive with an
  ``Authorization`` header, which must be none.

``GET /stats`` on either answers its counters as JSON.
"""

import argparse
import hmac
import os
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from common import Handler, add_common_arguments, issuer, run_forever, serve


class TokenServer(Handler):
    name = "token-server"

    def do_GET(self):
        s = self.server
        path = self.path.split("?")[0]
        if path == "/stats":
            with s.lock:
                return self.reply(200, dict(s.stats))
        if path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        q = self.query()
        if q.get("service") != s.service:
            self.log(400, "service")
            return self.reply(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
        credentials = self.basic()
        user = None
        if credentials and credentials[0] in s.users:
            password, _ = s.users[credentials[0]]
            if hmac.compare_digest(password.encode(), credentials[1].encode()):
                user = credentials[0]
        if user is None:
            self.log(401, "bad credentials")
            with s.lock:
                s.stats["refused"] += 1
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                              [("WWW-Authenticate", 'Basic realm="cloudauth-e2e"')])
        _, prefixes = s.users[user]
        granted = []
        # Every `scope` parameter (clients send one per repository).
        scopes = [x for value in parse_qs(urlsplit(self.path).query).get("scope", []) for x in value.split(" ") if x]
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) == 3 and parts[0] == "repository" and any(parts[1].startswith(p) for p in prefixes):
                granted.append(scope)
            else:
                with s.lock:
                    s.stats[f"denied-scope:{user}"] += 1
        with s.lock:
            s.stats[f"tokens:{user}"] += 1
        self.log(200, f"user {user!r}, granted {granted}")
        self.reply(200, s.issuer.issue(user, granted))


class BlobStore(Handler):
    name = "blob-store"

    def do_GET(self):
        s = self.server
        path = self.path.split("?")[0]
        if path == "/stats":
            with s.lock:
                return self.reply(200, dict(s.stats))
        with s.lock:
            s.stats["requests"] += 1
            if "Authorization" in self.headers:
                s.stats["with-authorization"] += 1
        if "Authorization" in self.headers:
            self.log(400, "AN AUTHORIZATION HEADER ARRIVED")
            return self.reply(400, b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>",
                              content_type="application/xml")
        file = (s.root / path.lstrip("/")).resolve()
        if s.root not in file.parents or not file.is_file():
            self.log(404)
            return self.reply(404, b"<Error><Code>BlobNotFound</Code></Error>", content_type="application/xml")
        data = file.read_bytes()
        self.log(200, f"{len(data)} bytes")
        self.reply(200, data, content_type="application/octet-stream")

    do_HEAD = do_GET


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--token-listen", required=True)
    parser.add_argument("--blobs-listen", required=True)
    parser.add_argument("--storage", required=True, help="the registry's filesystem root directory")
    parser.add_argument("--user", action="append", default=[], help="NAME:PASSWORD:PREFIX[,PREFIX...]")
    args = parser.parse_args()

    users = {}
    for spec in args.user:
        name, password, prefixes = spec.split(":", 2)
        users[name] = (password, prefixes.split(","))
    serve(TokenServer, args.token_listen, args.tls_cert, args.tls_key, args.max_seconds,
          service=args.registry_service, users=users, issuer=issuer(args), stats=Counter(), lock=threading.Lock())
    serve(BlobStore, args.blobs_listen, args.tls_cert, args.tls_key, args.max_seconds,
          root=Path(args.storage).resolve(), stats=Counter(), lock=threading.Lock())
    run_forever(args.max_seconds, args.ready_file)


if __name__ == "__main__":
    os.umask(0o077)
    main()
