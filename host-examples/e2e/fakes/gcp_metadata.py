#!/usr/bin/env python3
"""A fake Google Compute Engine metadata server, for tests only.

Written from Google's documentation of the metadata server
("About VM metadata", "Access VM metadata", "Authenticate workloads using
service accounts": the ``computeMetadata/v1`` tree):

* every request must carry ``Metadata-Flavor: Google``, else ``403``;
  a request carrying ``X-Forwarded-For`` is refused with ``403`` too (the
  server only answers requests that were not proxied);
* every answer carries ``Metadata-Flavor: Google``;
* ``instance/service-accounts/<account>/token`` answers
  ``{"access_token", "expires_in", "token_type": "Bearer"}`` as JSON, for the
  ``default`` account or its e-mail; an optional ``scopes`` query parameter
  (comma-separated) asks for other scopes than the account's own;
* ``instance/service-accounts/<account>/email``, ``project/project-id``,
  ``instance/attributes/cluster-location`` and ``cluster-name`` (GKE) are
  plain text;
* anything else is ``404``; a method other than ``GET`` is ``405``.

It listens on 127.0.0.1 only, prints nothing secret, and appends one JSON
line per request (method, path, query, whether the flavor header was set)
to ``--log``, so tests can count requests. Hosts reach it as the Google
SDKs do, through ``GCE_METADATA_HOST=127.0.0.1:PORT``. It exits by itself
after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/computeMetadata/v1/"


class Metadata:
    """The values served, and the request log."""

    def __init__(self, args: argparse.Namespace):
        self.email = args.email
        self.project = args.project
        self.token = args.token or f"ya29.fake-{secrets.token_urlsafe(24)}"
        self.expires_in = args.expires_in
        self.default_scopes = args.scopes.split(",")
        self.cluster_location = args.cluster_location
        self.cluster_name = args.cluster_name
        self.log_path = args.log
        self.lock = threading.Lock()

    def log(self, entry: dict) -> None:
        if self.log_path:
            with self.lock, open(self.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, str]:
        """(status, content type, body) for a GET of `path` under the prefix."""
        accounts = "instance/service-accounts/"
        if path.startswith(accounts):
            account, _, leaf = path[len(accounts) :].partition("/")
            if account not in ("default", self.email):
                return 404, "text/html", "Not Found"
            if leaf == "email":
                return 200, "application/text", self.email
            if leaf == "scopes":
                return 200, "application/text", "\n".join(self.default_scopes) + "\n"
            if leaf == "token":
                body = {"access_token": self.token, "expires_in": self.expires_in, "token_type": "Bearer"}
                return 200, "application/json", json.dumps(body)
            return 404, "text/html", "Not Found"
        values = {
            "project/project-id": self.project,
            "instance/attributes/cluster-location": self.cluster_location,
            "instance/attributes/cluster-name": self.cluster_name,
        }
        value = values.get(path)
        if value is None:
            return 404, "text/html", "Not Found"
        return 200, "application/text", value


def handler(metadata: Metadata) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "Metadata Server for VM"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            pass

        def send(self, status: int, content_type: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Metadata-Flavor", "Google")
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            flavor = self.headers.get("Metadata-Flavor")
            metadata.log(
                {
                    "method": "GET",
                    "path": url.path,
                    "query": {k: v for k, v in query.items()},
                    "flavor": flavor,
                }
            )
            if flavor != "Google" or self.headers.get("X-Forwarded-For") is not None:
                self.send(403, "text/html", "Forbidden: missing Metadata-Flavor: Google, or a proxied request")
                return
            if not url.path.startswith(PREFIX):
                self.send(404, "text/html", "Not Found")
                return
            self.send(*metadata.answer(url.path[len(PREFIX) :], query))

        def refuse(self) -> None:
            metadata.log({"method": self.command, "path": urlsplit(self.path).path})
            self.send(405, "text/html", "Method Not Allowed")

        do_POST = do_PUT = do_DELETE = do_PATCH = refuse

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True, help="where to write the port listened on")
    parser.add_argument("--log", help="append one JSON line per request here")
    parser.add_argument("--email", default="node@fake-project.iam.gserviceaccount.com")
    parser.add_argument("--project", default="fake-project")
    parser.add_argument("--token", help="the access token to hand out (default: a random one)")
    parser.add_argument("--expires-in", type=int, default=3599)
    parser.add_argument(
        "--scopes",
        default="https://www.googleapis.com/auth/cloud-platform,https://www.googleapis.com/auth/userinfo.email",
        help="the default account's scopes, comma-separated",
    )
    parser.add_argument("--cluster-location", help="GKE: instance/attributes/cluster-location")
    parser.add_argument("--cluster-name", help="GKE: instance/attributes/cluster-name")
    parser.add_argument("--max-seconds", type=int, default=600)
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(Metadata(args)))
    server.daemon_threads = True
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
