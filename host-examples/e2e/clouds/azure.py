#!/usr/bin/env python3
"""A loopback Azure for the end-to-end test (a test-only fake): Microsoft
Entra's token endpoint and an Azure Container Registry's token service, in
front of the real distribution registry.

Written from Microsoft's documentation:

* Entra, client credentials with a federated assertion ("Microsoft identity
  platform and the OAuth 2.0 client credentials flow", "Workload identity
  federation"): ``POST /{tenant}/oauth2/v2.0/token`` with ``client_id``,
  ``scope``, ``grant_type=client_credentials``,
  ``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer``
  and ``client_assertion``; answers ``token_type``, ``expires_in``,
  ``ext_expires_in``, ``access_token``; errors are ``400`` with ``error``,
  ``error_description`` (``AADSTS...``) and ``error_codes``.
* ACR ("Azure Container Registry authentication with tokens", the
  ``oauth2/exchange`` and ``oauth2/token`` REST API):
  ``POST /oauth2/exchange`` with ``grant_type=access_token``, ``service``,
  ``access_token`` (``tenant`` optional) answers ``{"refresh_token"}``;
  ``GET /oauth2/token?service=&scope=`` with basic credentials
  ``00000000-0000-0000-0000-000000000000:<refresh token>``, or
  ``POST /oauth2/token`` with ``grant_type=refresh_token``, answers
  ``{"access_token"}``; ``/v2/`` challenges with
  ``Bearer realm="https://<registry>/oauth2/token",service="<registry>"``.

The registry's storage and token verification are the real distribution
registry's: ``/v2/`` is forwarded to it with a registry token this fake
signs for the scope it granted.
"""

import argparse

from common import Handler, RegistryFront, Tokens, add_common_arguments, issuer, run_forever, serve

ACR_USER = "00000000-0000-0000-0000-000000000000"
ACR_SCOPE = "https://containerregistry.azure.net/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class Entra(Handler):
    name = "entra"

    def aad_error(self, status, error, code, description):
        self.log(status, f"{error} AADSTS{code}")
        self.reply(status, {"error": error, "error_description": f"AADSTS{code}: {description}", "error_codes": [code]})

    def do_POST(self):
        s = self.server
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 4 or parts[1:] != ["oauth2", "v2.0", "token"]:
            self.reply(404, {"error": "not_found"})
            return
        tenant = parts[0]
        form = self.form()
        if tenant != s.tenant:
            return self.aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return self.aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if form.get("client_id") != s.client_id:
            return self.aad_error(400, "unauthorized_client", 700016, "Application not found in the directory.")
        if form.get("client_assertion_type") != ASSERTION_TYPE or form.get("client_assertion") != s.assertion:
            return self.aad_error(400, "invalid_client", 700213, "No matching federated identity record found.")
        scope = form.get("scope", "")
        if scope != ACR_SCOPE:
            return self.aad_error(400, "invalid_scope", 1002012, f"The provided value for scope {scope} is not valid.")
        token = s.aad_tokens.issue(f"{s.tenant}/{s.client_id}", 3599, aud="https://containerregistry.azure.net", tid=s.tenant)
        self.log(200, f"token for client {s.client_id}")
        self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})


class Acr(Handler):
    name = "acr"

    def do_POST(self):
        path = self.path.split("?")[0]
        if path == "/oauth2/exchange":
            self.exchange()
        elif path == "/oauth2/token":
            form = self.form()
            if form.get("grant_type") != "refresh_token":
                self.log(400, "grant_type")
                return self.reply(400, {"errors": [{"code": "UNSUPPORTED", "message": "unsupported grant_type"}]})
            self.token(form.get("refresh_token", ""), form.get("service"), form.get("scope", ""))
        else:
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})

    def exchange(self):
        s = self.server
        form = self.form()
        if form.get("grant_type") != "access_token" or form.get("service") != s.registry:
            self.log(400, "bad exchange request")
            return self.reply(400, {"errors": [{"code": "UNSUPPORTED", "message": "invalid grant_type or service"}]})
        subject = s.aad_tokens.subject(form.get("access_token", ""))
        if subject is None:
            self.log(401, "unknown AAD token")
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid AAD access token"}]})
        refresh = s.refresh_tokens.issue(subject, 3 * 3600, aud=s.registry, grant_type="refresh_token")
        self.log(200, f"refresh token for {subject}")
        self.reply(200, {"refresh_token": refresh})

    def token(self, refresh, service, scope):
        s = self.server
        if service != s.registry:
            self.log(400, "service")
            return self.reply(400, {"errors": [{"code": "UNSUPPORTED", "message": "invalid service"}]})
        subject = s.refresh_tokens.subject(refresh)
        if subject is None:
            self.log(401, "unknown refresh token")
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                              [("WWW-Authenticate", f'Bearer realm="https://{s.registry}/oauth2/token",service="{s.registry}"')])
        scopes = [x for x in scope.split(" ") if x]
        issued = s.issuer.issue(subject, scopes)
        s.access_tokens[issued["token"]] = scopes
        self.log(200, f"access token for {subject}, scopes {scopes}")
        self.reply(200, {"access_token": issued["token"]})

    def do_GET(self):
        s = self.server
        path = self.path.split("?")[0]
        if path == "/oauth2/token":
            credentials = self.basic()
            if credentials is None or credentials[0] != ACR_USER:
                self.log(401, "no basic credentials")
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                                  [("WWW-Authenticate", f'Basic realm="https://{s.registry}/oauth2/token"')])
            q = self.query()
            return self.token(credentials[1], q.get("service"), q.get("scope", ""))
        if path.startswith("/v2"):
            status = s.front.forward(self, self.headers.get("Authorization") if self.bearer() else None)
            self.log(status)
            return
        self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})

    do_HEAD = do_GET


def main():
    parser = argparse.ArgumentParser(description="loopback Entra + ACR (test-only fake)")
    add_common_arguments(parser)
    parser.add_argument("--entra-listen", required=True)
    parser.add_argument("--acr-listen", required=True)
    parser.add_argument("--registry", required=True, help="the ACR host, e.g. myreg.azurecr.io")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--assertion-file", required=True, help="the federated token the client must present")
    args = parser.parse_args()

    with open(args.assertion_file) as f:
        assertion = f.read().strip()
    aad_tokens = Tokens()
    serve(Entra, args.entra_listen, args.tls_cert, args.tls_key, args.max_seconds,
          tenant=args.tenant, client_id=args.client_id, assertion=assertion, aad_tokens=aad_tokens)
    front = RegistryFront(args.backend, args.ca_file, f"https://{args.registry}/oauth2/token", args.registry)
    serve(Acr, args.acr_listen, args.tls_cert, args.tls_key, args.max_seconds,
          registry=args.registry, aad_tokens=aad_tokens, refresh_tokens=Tokens(), issuer=issuer(args),
          access_tokens={}, front=front)
    run_forever(args.max_seconds, args.ready_file)


if __name__ == "__main__":
    main()
