#!/usr/bin/env python3
"""Captures the requests google-auth sends for each GOOGLE_APPLICATION_CREDENTIALS
file type, as `session.request` conformance cases.

Run: python3 tests/cases/capture/google_adc.py > tests/cases/session.request.gcp-credentials-file.json
(needs `pip install google-auth cryptography`). The expected requests are
google-auth's own, recorded through a fake transport at a fixed clock; only
the SDK's telemetry header (`x-goog-api-client`, which names the Python and
library versions) is left out of the comparison.
"""
import datetime
import json
import sys
from urllib.parse import parse_qsl

import google.auth
import google.auth._helpers
from google.auth import aws, identity_pool, impersonated_credentials

NOW = 1705320000
FIXED = datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc).replace(tzinfo=None)
google.auth._helpers.utcnow = lambda: FIXED

KEY = open(__file__.rsplit("/", 3)[0] + "/data/test-rsa-pkcs8.pem").read()
CRED_PATH = "/etc/gcp/credentials.json"
TOKEN_PATH = "/tmp/cloudauth-capture/gcp-ksa/token"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email"]
SUBJECT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln"
AUDIENCE = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider"
IMPERSONATE = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/puller@my-project.iam.gserviceaccount.com:generateAccessToken"
VERSION = google.auth.__version__


class Response:
    def __init__(self, status, body):
        self.status = status
        self.headers = {"content-type": "application/json"}
        self.data = body.encode()


class Transport:
    """A google.auth.transport.Request that records and answers from a queue."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.sent = []

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        self.sent.append((method, url, dict(headers or {}), body))
        status, text = self.answers.pop(0)
        return Response(status, text)


def expected(sent):
    method, url, headers, body = sent
    request = {"method": method, "url": url}
    # google-auth passes the IMDSv2 session token on as the bytes it read.
    kept = {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items() if k.lower() != "x-goog-api-client"}
    if kept:
        request["headers"] = kept
    if body:
        body = body.decode() if isinstance(body, bytes) else body
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if ctype == "application/x-www-form-urlencoded":
            request["form"] = [list(p) for p in parse_qsl(body, keep_blank_values=True)]
        elif ctype == "application/json":
            request["json"] = json.loads(body)
        else:
            request["body"] = body
    return request


def cases_for(name, source, file_info, make, answers, extra_env=None, subject_file=None, case_env=None):
    """One case per request the SDK sent: the answers before it, then it.
    `case_env` replaces the case's GOOGLE_APPLICATION_CREDENTIALS."""
    import os

    for key in AWS_ENV:
        os.environ.pop(key, None)
    os.environ.update(extra_env or {})
    transport = Transport(answers)
    if subject_file is not None:
        with_subject_file(subject_file)
    creds = make(file_info)
    creds.refresh(transport)
    out = []
    env = dict(case_env or {"GOOGLE_APPLICATION_CREDENTIALS": CRED_PATH})
    env.update(extra_env or {})
    given = [{"file": json.dumps(file_info, indent=1)}]
    http = iter(answers)
    for i, sent in enumerate(transport.sent):
        if i == 0 and subject_file is not None:
            given.append({"file": subject_file})
        out.append({
            "id": f"{name}-request-{i + 1}",
            "source": f"google-auth {VERSION} {source}: request {i + 1}, captured at a fixed clock",
            "input": {"provider": "gcp", "scopes": SCOPES, "environment": env, "answers": list(given), "now": NOW},
            "expect": {"request": expected(sent)},
        })
        status, text = next(http)
        given.append({"status": status, "body": text})
    return out


def load(info):
    if info["type"] == "external_account" and "environment_id" in info["credential_source"]:
        return aws.Credentials.from_info(info, scopes=SCOPES)
    if info["type"] == "external_account":
        # As google.auth.default builds it, without its project-id lookup.
        return identity_pool.Credentials.from_info(info, scopes=SCOPES)
    creds, _ = google.auth.load_credentials_from_dict(info, scopes=SCOPES)
    return creds


def with_subject_file(text):
    """google-auth reads the subject token file itself: write it where the case says."""
    import os

    os.makedirs(os.path.dirname(TOKEN_PATH), exist_ok=True)
    with open(TOKEN_PATH, "w") as f:
        f.write(text)


TOKEN = lambda t: (200, json.dumps({"access_token": t, "expires_in": 3599, "token_type": "Bearer"}))
IAM = (200, json.dumps({"accessToken": "ya29.impersonated", "expireTime": "2024-01-15T13:00:00Z"}))

service_account = {
    "type": "service_account",
    "project_id": "my-project",
    "private_key_id": "0123456789abcdef0123456789abcdef01234567",
    "private_key": KEY,
    "client_email": "builder@my-project.iam.gserviceaccount.com",
    "client_id": "112233445566778899000",
    "token_uri": "https://oauth2.googleapis.com/token",
}
authorized_user = {
    "type": "authorized_user",
    "client_id": "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com",
    "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty",
    "refresh_token": "1//0gExampleRefreshToken",
}
impersonated = {
    "type": "impersonated_service_account",
    "service_account_impersonation_url": IMPERSONATE,
    "delegates": [],
    "source_credentials": authorized_user,
}
impersonated_sa = dict(impersonated, source_credentials=service_account)
file_source = {
    "type": "external_account",
    "audience": AUDIENCE,
    "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
    "token_url": "https://sts.googleapis.com/v1/token",
    "credential_source": {"file": TOKEN_PATH},
}
file_source_json = dict(
    file_source,
    credential_source={"file": TOKEN_PATH, "format": {"type": "json", "subject_token_field_name": "id_token"}},
)
file_source_impersonated = dict(file_source, service_account_impersonation_url=IMPERSONATE)
url_source = dict(
    file_source,
    credential_source={
        "url": "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://AzureADTokenExchange",
        "headers": {"Metadata": "True"},
        "format": {"type": "json", "subject_token_field_name": "access_token"},
    },
)

AWS_ENV = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
aws_source = {
    "type": "external_account",
    "audience": AUDIENCE,
    "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
    "token_url": "https://sts.googleapis.com/v1/token",
    "credential_source": {
        "environment_id": "aws1",
        "region_url": "http://169.254.169.254/latest/meta-data/placement/availability-zone",
        "url": "http://169.254.169.254/latest/meta-data/iam/security-credentials",
        "regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15",
        "imdsv2_session_token_url": "http://169.254.169.254/latest/api/token",
    },
}
AWS_KEYS = {
    "AWS_REGION": "us-east-2",
    "AWS_ACCESS_KEY_ID": "ASIARD4OQDT6A77FR3CL",
    "AWS_SECRET_ACCESS_KEY": "Y8AfSaucF37G4PpvfguKZ3/l7Id4uocLXxX0+VTx",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEIz//////////wEaCXVzLWVhc3QtMiJGMEQCIH7MHX/Oy",
}
IMDS_CREDS = json.dumps({
    "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIARD4OQDT6A77FR3CL",
    "SecretAccessKey": "Y8AfSaucF37G4PpvfguKZ3/l7Id4uocLXxX0+VTx", "Token": "IQoJb3JpZ2luX2VjEIz//////////wEaCXVzLWVhc3QtMiJGMEQCIH7MHX/Oy",
    "Expiration": "2024-01-15T18:00:00Z", "LastUpdated": "2024-01-15T12:00:00Z",
})

cases = []
cases += cases_for("service-account", "service_account.Credentials (JWT-bearer grant)", service_account, load, [TOKEN("ya29.sa")])
cases += cases_for("authorized-user", "oauth2.credentials.Credentials (refresh grant)", authorized_user, load, [TOKEN("ya29.user")])
cases += cases_for("impersonated-user", "impersonated_credentials.Credentials from authorized_user", impersonated, load, [TOKEN("ya29.user"), IAM])
cases += cases_for("impersonated-sa", "impersonated_credentials.Credentials from service_account", impersonated_sa, load, [TOKEN("ya29.sa"), IAM])
cases += cases_for("external-file-text", "identity_pool.Credentials, file source, text", file_source, load, [TOKEN("ya29.sts")], subject_file=SUBJECT)
cases += cases_for("external-file-json", "identity_pool.Credentials, file source, JSON", file_source_json, load, [TOKEN("ya29.sts")], subject_file=json.dumps({"id_token": SUBJECT}))
cases += cases_for("external-file-impersonated", "identity_pool.Credentials with service_account_impersonation_url", file_source_impersonated, load, [TOKEN("ya29.sts"), IAM], subject_file=SUBJECT)
cases += cases_for("external-url", "identity_pool.Credentials, url source with headers, JSON", url_source, load, [(200, json.dumps({"access_token": SUBJECT})), TOKEN("ya29.sts")])

# What google-github-actions/auth writes for workload identity federation
# on GitHub Actions: the runner's OIDC endpoint as a URL source.
actions_source = dict(
    file_source,
    credential_source={
        "url": "https://pipelinesghubeus1.actions.githubusercontent.com/abc/00000000-0000-0000-0000-000000000000/_apis/distributedtask/hubs/Actions/plans/1/jobs/2/idtoken?api-version=2.0&audience=https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider",
        "headers": {"Authorization": "Bearer actions-request-token"},
        "format": {"type": "json", "subject_token_field_name": "value"},
    },
)
cases += cases_for("external-url-github-actions", "identity_pool.Credentials, the URL source google-github-actions/auth writes", actions_source, load, [(200, json.dumps({"count": 1, "value": SUBJECT})), TOKEN("ya29.sts")])
cases += cases_for("external-aws-env", "aws.Credentials, credentials and region from the environment", aws_source, load, [TOKEN("ya29.sts")], extra_env=AWS_KEYS)
cases += cases_for(
    "external-aws-imdsv2",
    "aws.Credentials, IMDSv2: a session token for the region, another for the role and its credentials",
    aws_source,
    load,
    [
        (200, "AQAEAExampleSessionToken1=="),
        (200, "us-east-2b"),
        (200, "AQAEAExampleSessionToken2=="),
        (200, "gcp-federation-role"),
        (200, IMDS_CREDS),
        TOKEN("ya29.sts"),
    ],
)


HOME = "/tmp/cloudauth-capture/home"


def from_well_known(info):
    """As google.auth.default finds it without GOOGLE_APPLICATION_CREDENTIALS:
    gcloud's application default credentials file under HOME."""
    import os

    path = os.path.join(HOME, ".config", "gcloud", "application_default_credentials.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(info, f)
    for key in ("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG"):
        os.environ.pop(key, None)
    os.environ["HOME"] = HOME
    creds, _ = google.auth.default(scopes=SCOPES)
    return creds


cases += cases_for(
    "well-known-service-account",
    "google.auth.default, gcloud's well-known file under HOME (service_account)",
    service_account,
    from_well_known,
    [TOKEN("ya29.sa")],
    case_env={"HOME": HOME},
)
json.dump({"op": "session.request", "cases": cases}, sys.stdout, indent=1)
print()
