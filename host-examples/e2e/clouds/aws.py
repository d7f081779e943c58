#!/usr/bin/env python3
"""A loopback AWS for the end-to-end test: moto in server mode with request
authentication on, and an ECR registry host (a test-only fake) in front of
the real distribution registry.

moto (``moto[server]``) serves STS, ECR, EKS, S3 and IAM on one address for
every AWS host name (its dispatcher picks the service from the request).
``INITIAL_NO_AUTH_ACTION_COUNT`` is set to the number of set-up actions this
script makes (a role with a policy, an EKS cluster, an S3 bucket); every
action after them is authenticated: moto recomputes the SigV4 signature
with botocore and checks the caller's IAM policy.

Three places where this differs from AWS, on purpose and logged:

* ``AssumeRoleWithWebIdentity`` escapes moto's auth check. AWS does not sign
  it (the web identity token is the credential), and moto 5 fails an
  unsigned request once authentication is on, so this one action is
  exempted; the fake checks instead that the web identity token is the one
  the test wrote. Every other action (ECR, EKS, S3) is signed with the
  temporary credentials it returned, and checked.
* EKS ``DescribeCluster`` escapes moto's auth check too: moto 5.2.1 refuses
  botocore's own signature of any EKS GET (``SignatureDoesNotMatch``), so
  it cannot check cloudauth's.
* moto's EKS cluster CA is random text; it is set to the test CA, base64
  PEM as EKS gives it.
* moto's ECR ``GetAuthorizationToken`` answers a fixed ``expiresAt`` in 2015;
  real ECR tokens last 12 hours, and an expired token is refused by
  cloudauth, so the answer's ``expiresAt`` is set to now + 12 h.

The ECR registry host (``<account>.dkr.ecr.<region>.amazonaws.com``), from
the ECR documentation ("Private registry authentication"): ``/v2/``
challenges with ``Basic``; the user is ``AWS`` and the password is the one
in the token moto issued (moto's token is ``AWS:<account>-auth-token``).
"""

import argparse
import os
import re
import sys
import time

from common import Handler, RegistryFront, add_common_arguments, issuer, run_forever, serve

SETUP_ACTIONS = 4
NAME = re.compile(r"^/v2/(.+?)/(manifests|blobs|tags|referrers)/")


class EcrRegistry(Handler):
    name = "ecr-registry"

    def do_GET(self):
        s = self.server
        if not self.path.startswith("/v2"):
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        credentials = self.basic()
        if credentials != ("AWS", f"{s.account}-auth-token"):
            self.log(401, f"credentials for user {credentials[0]!r} do not match the token moto issued" if credentials else "no credentials")
            return self.reply(401, {"errors": [{"code": "DENIED", "message": "Your authorization token has expired. Reauthenticate and try again."}]},
                              [("WWW-Authenticate", f'Basic realm="https://{s.registry}/",service="ecr.amazonaws.com"')])
        match = NAME.match(self.path)
        scopes = [f"repository:{match.group(1)}:pull"] if match else []
        token = s.issuer.issue("AWS", scopes)["token"]
        status = s.front.forward(self, f"Bearer {token}")
        self.log(status)

    do_HEAD = do_GET


def patch_moto(web_identity_token: str):
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.ecr.responses import ECRResponse

    original_auth = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate(self, iam_request_cls, resource="*"):
        if self._get_action() == "DescribeCluster" and self.method == "GET":
            sys.stderr.write("moto: EKS DescribeCluster escapes moto's auth check (moto 5.2.1 refuses even botocore's "
                             "own signature of an EKS GET with SignatureDoesNotMatch)\n")
            return
        if self._get_action() == "AssumeRoleWithWebIdentity":
            token = self._get_param("WebIdentityToken")
            sys.stderr.write("moto: AssumeRoleWithWebIdentity escapes moto's auth check (unsigned in AWS too); "
                             f"web identity token {'matches' if token == web_identity_token else 'DOES NOT match'}\n")
            if token != web_identity_token:
                from moto.core.exceptions import RESTError
                raise RESTError("InvalidIdentityToken", "The web identity token that was passed could not be validated.")
            return
        return original_auth(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate

    original_token = ECRResponse.get_authorization_token

    def get_authorization_token(self):
        result = original_token(self)
        for data in result.result["authorizationData"]:
            data["expiresAt"] = time.time() + 12 * 3600
        return result

    ECRResponse.get_authorization_token = get_authorization_token


def set_up(endpoint: str, ca_file: str, account: str, role: str, cluster: str, bucket: str):
    """The set-up actions, inside moto's no-auth budget."""
    import json

    import boto3

    kw = dict(endpoint_url=endpoint, region_name="us-east-1", verify=ca_file,
              aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="setup-only")
    iam = boto3.client("iam", **kw)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "oidc.example.test"},
                                                     "Action": "sts:AssumeRoleWithWebIdentity"}]}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
        "ecr:GetAuthorizationToken", "eks:*", "s3:*"], "Resource": "*"}]}
    iam.put_role_policy(RoleName=role, PolicyName="cloudauth-e2e", PolicyDocument=json.dumps(policy))
    boto3.client("eks", **kw).create_cluster(
        name=cluster, roleArn=f"arn:aws:iam::{account}:role/{role}",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]})
    boto3.client("s3", **{**kw, "endpoint_url": "https://s3.us-east-1.amazonaws.com"}).create_bucket(Bucket=bucket)


def main():
    parser = argparse.ArgumentParser(description="loopback AWS: moto with auth on + an ECR registry host")
    add_common_arguments(parser)
    parser.add_argument("--moto-listen", required=True)
    parser.add_argument("--moto-endpoint", required=True, help="how set-up reaches moto, e.g. https://sts.amazonaws.com")
    parser.add_argument("--ecr-listen", required=True)
    parser.add_argument("--account", default="123456789012")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--role", required=True)
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--web-identity-token-file", required=True)
    args = parser.parse_args()

    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_ACTIONS)
    os.environ["MOTO_ALLOW_NONEXISTENT_REGION"] = "false"
    with open(args.web_identity_token_file) as f:
        patch_moto(f.read().strip())

    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    host, port = args.moto_listen.rsplit(":", 1)
    moto = make_server(host, int(port), DomainDispatcherApplication(create_backend_app), threaded=True,
                       ssl_context=(args.tls_cert, args.tls_key))
    threading.Thread(target=moto.serve_forever, daemon=True).start()
    set_up(args.moto_endpoint, args.ca_file, args.account, args.role, args.cluster, args.bucket)
    # moto's cluster CA is random text; EKS gives base64 PEM, and cloudauth
    # checks it. The test CA stands in.
    import base64

    from moto.eks.models import eks_backends
    with open(args.ca_file, "rb") as f:
        eks_backends[args.account][args.region].clusters[args.cluster].certificate_authority = {
            "data": base64.b64encode(f.read()).decode()}
    from moto.core.authorization import ActionAuthenticatorMixin
    if ActionAuthenticatorMixin.request_count != SETUP_ACTIONS:
        sys.exit(f"moto: set-up used {ActionAuthenticatorMixin.request_count} actions, expected {SETUP_ACTIONS}")
    sys.stderr.write(f"moto: set-up done ({SETUP_ACTIONS} actions); authentication is on for every later action\n")

    registry = f"{args.account}.dkr.ecr.{args.region}.amazonaws.com"
    front = RegistryFront(args.backend, args.ca_file, f"https://{registry}/", "ecr.amazonaws.com", scheme="Basic")
    serve(EcrRegistry, args.ecr_listen, args.tls_cert, args.tls_key, args.max_seconds,
          account=args.account, registry=registry, issuer=issuer(args), front=front)
    run_forever(args.max_seconds, args.ready_file)


if __name__ == "__main__":
    main()
