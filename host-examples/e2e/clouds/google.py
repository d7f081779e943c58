#!/usr/bin/env python3
"""A loopback Google Cloud for the end-to-end test (a test-only fake): the
GCE metadata server, Security Token Service, and Artifact Registry's token
endpoint in front of the real distribution registry.

Written from Google's documentation:

* Metadata server ("About VM metadata", "Access VM metadata"): plain HTTP on
  ``metadata.google.internal``; every request must carry
  ``Metadata-Flavor: Google`` (else ``403``), every answer carries it;
  ``GET /computeMetadata/v1/instance/service-accounts/default/token?scopes=``
  answers ``{"access_token", "expires_in", "token_type": "Bearer"}``.
* STS (``POST https://sts.googleapis.com/v1/token``, "Method: token"): a
  form with ``grant_type=urn:ietf:params:oauth:grant-type:token-exchange``,
  ``audience`` (the workload identity provider), ``scope``,
  ``requested_token_type=urn:ietf:params:oauth:token-type:access_token``,
  ``subject_token``, ``subject_token_type``; answers ``access_token``,
  ``issued_token_type``, ``token_type``, ``expires_in``; errors are
  ``400 {"error": "invalid_grant", "error_description": ...}``.
* OAuth 2.0 token endpoint for service-account keys (``POST
  https://oauth2.googleapis.com/token``, "Using OAuth 2.0 for Server to
  Server Applications"): ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``
  and ``assertion``, a JWT signed RS256 with the key whose public half the
  service account holds; its claims ``iss`` (the account), ``scope``,
  ``aud`` (the token URI), ``exp`` and ``iat`` (at most one hour apart);
  answers ``{"access_token", "expires_in", "token_type": "Bearer"}``;
  errors are ``400 {"error": "invalid_grant", "error_description": ...}``.
* Artifact Registry ("Configure authentication to Artifact Registry for
  Docker", access-token method): the user ``oauth2accesstoken`` with a
  Google access token as password; ``/v2/`` challenges with
  ``Bearer realm="https://<location>-docker.pkg.dev/v2/token",service="<location>-docker.pkg.dev"``.
"""

import argparse
import base64
import json
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from common import Handler, RegistryFront, Tokens, add_common_arguments, issuer, run_forever, serve

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


class Metadata(Handler):
    name = "gce-metadata"

    def do_GET(self):
        s = self.server
        if self.headers.get("Metadata-Flavor") != "Google":
            self.log(403, "no Metadata-Flavor")
            return self.reply(403, b"Missing Metadata-Flavor:Google header.", content_type="text/html")
        path = self.path.split("?")[0]
        if path == "/computeMetadata/v1/instance/service-accounts/default/token":
            scopes = self.query().get("scopes", "")
            if CLOUD_PLATFORM not in scopes.split(","):
                self.log(400, "scopes")
                return self.reply(400, {"error": "invalid_scope"}, [("Metadata-Flavor", "Google")])
            token = s.google_tokens.issue(s.service_account, 3599)
            self.log(200, f"token for {s.service_account}")
            return self.reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"},
                              [("Metadata-Flavor", "Google")])
        self.log(404)
        self.reply(404, b"not found", [("Metadata-Flavor", "Google")], content_type="text/html")


class Sts(Handler):
    name = "google-sts"

    def error(self, description):
        self.log(400, description)
        self.reply(400, {"error": "invalid_grant", "error_description": description})

    def do_POST(self):
        s = self.server
        if self.path.split("?")[0] != "/v1/token":
            return self.reply(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
        form = self.form()
        if form.get("grant_type") != GRANT:
            return self.error("Invalid grant_type.")
        if form.get("audience") != s.audience:
            return self.error("The audience in the request does not match a workload identity pool provider.")
        if form.get("requested_token_type") != ACCESS_TOKEN_TYPE:
            return self.error("Invalid requested_token_type.")
        if form.get("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt":
            return self.error("Invalid subject_token_type.")
        if form.get("subject_token") != s.subject_token:
            return self.error("The subject token could not be verified.")
        if CLOUD_PLATFORM not in form.get("scope", "").split(" "):
            return self.error("Invalid scope.")
        token = s.google_tokens.issue(f"principal://{s.audience[2:]}", 3600)
        self.log(200, "federated token")
        self.reply(200, {"access_token": token, "issued_token_type": ACCESS_TOKEN_TYPE, "token_type": "Bearer",
                         "expires_in": 3600})


class OAuth2(Handler):
    name = "google-oauth2"

    def error(self, description):
        self.log(400, description)
        self.reply(400, {"error": "invalid_grant", "error_description": description})

    def do_POST(self):
        s = self.server
        if self.path.split("?")[0] != "/token":
            return self.reply(404, {"error": "not_found"})
        form = self.form()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.error("Invalid grant_type.")
        parts = form.get("assertion", "").split(".")
        if len(parts) != 3:
            return self.error("Invalid JWT.")
        pad = lambda p: base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))
        try:
            header, claims = json.loads(pad(parts[0])), json.loads(pad(parts[1]))
            s.public_key.verify(pad(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return self.error("Invalid JWT Signature.")
        now = time.time()
        if header.get("alg") != "RS256" or claims.get("iss") != s.service_account:
            return self.error("Invalid issuer or algorithm.")
        if claims.get("aud") != "https://oauth2.googleapis.com/token":
            return self.error("Invalid audience.")
        if not (claims.get("iat", 0) - 300 <= now < claims.get("exp", 0)) or claims["exp"] - claims["iat"] > 3600:
            return self.error("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        if CLOUD_PLATFORM not in claims.get("scope", "").split(" "):
            return self.error("Invalid scope.")
        token = s.google_tokens.issue(s.service_account, 3599)
        self.log(200, f"token for {s.service_account} (key {header.get('kid')})")
        self.reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})


class Gar(Handler):
    name = "gar"

    def do_GET(self):
        s = self.server
        path = self.path.split("?")[0]
        if path == "/v2/token":
            credentials = self.basic()
            subject = None
            if credentials and credentials[0] == "oauth2accesstoken":
                subject = s.google_tokens.subject(credentials[1])
            if subject is None:
                self.log(401, "no valid Google access token")
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication failed"}]})
            q = self.query()
            if q.get("service") != s.registry:
                self.log(400, "service")
                return self.reply(400, {"errors": [{"code": "UNSUPPORTED", "message": "invalid service"}]})
            scopes = [x for x in q.get("scope", "").split(" ") if x]
            issued = s.issuer.issue(subject, scopes)
            self.log(200, f"token for {subject}, scopes {scopes}")
            return self.reply(200, {"token": issued["token"], "expires_in": issued["expires_in"]})
        if path.startswith("/v2"):
            status = s.front.forward(self, self.headers.get("Authorization") if self.bearer() else None)
            self.log(status)
            return
        self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})

    do_HEAD = do_GET


def main():
    parser = argparse.ArgumentParser(description="loopback GCE metadata + STS + Artifact Registry (test-only fake)")
    add_common_arguments(parser)
    parser.add_argument("--metadata-listen", required=True)
    parser.add_argument("--sts-listen", required=True)
    parser.add_argument("--gar-listen", required=True)
    parser.add_argument("--registry", required=True, help="e.g. us-docker.pkg.dev")
    parser.add_argument("--service-account", required=True, help="the VM's default service account")
    parser.add_argument("--audience", required=True, help="the workload identity provider STS accepts")
    parser.add_argument("--subject-token-file", required=True, help="the Kubernetes token STS accepts")
    parser.add_argument("--oauth2-listen", required=True)
    parser.add_argument("--key-service-account", required=True, help="the account of the service-account key")
    parser.add_argument("--key-public", required=True, help="PEM public key of that account's key")
    args = parser.parse_args()

    with open(args.subject_token_file) as f:
        subject_token = f.read().strip()
    google_tokens = Tokens()
    serve(Metadata, args.metadata_listen, "", "", args.max_seconds,
          google_tokens=google_tokens, service_account=args.service_account)
    serve(Sts, args.sts_listen, args.tls_cert, args.tls_key, args.max_seconds,
          google_tokens=google_tokens, audience=args.audience, subject_token=subject_token)
    with open(args.key_public, "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    serve(OAuth2, args.oauth2_listen, args.tls_cert, args.tls_key, args.max_seconds,
          google_tokens=google_tokens, service_account=args.key_service_account, public_key=public_key)
    front = RegistryFront(args.backend, args.ca_file, f"https://{args.registry}/v2/token", args.registry)
    serve(Gar, args.gar_listen, args.tls_cert, args.tls_key, args.max_seconds,
          registry=args.registry, google_tokens=google_tokens, issuer=issuer(args), front=front)
    run_forever(args.max_seconds, args.ready_file)


if __name__ == "__main__":
    main()
