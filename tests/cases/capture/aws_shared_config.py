"""Captures what botocore sends for AWS shared config profiles, as
`session.request` conformance cases (tests/cases/session.request.aws-shared-config.json).

botocore reads the same files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE,
AWS_PROFILE), resolves the profile (source_profile chains, web identity
token files, region, use_fips_endpoint) and sends its requests; a
`before-send` hook records each request and answers STS with the STS API
reference's example documents. The clock is fixed. Profiles set
`role_session_name` and `duration_seconds` (over 15 minutes), where botocore's
defaults differ from the Go SDK's (`botocore-session-<time>`, no duration).

Run: python3 tests/cases/capture/aws_shared_config.py > /tmp/captured.json
(prints the captured cases; the file also holds error cases written from the SDKs'
documented behaviour, each naming its source, and compares the unsigned web
identity request by its form fields)
"""
import datetime, json, os, sys, tempfile
from unittest import mock

import botocore
import botocore.auth
import botocore.session
from botocore.awsrequest import AWSResponse

NOW = 1705320000
CONFIG = "/etc/aws/config"
CREDENTIALS = "/etc/aws/credentials"
TOKEN_FILE = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSIsImV4cCI6NDEwMjQ0NDgwMH0.c2ln"


def sts_xml(action, key_id, secret, token):
    return (
        f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{action}Result>'
        f"<Credentials><AccessKeyId>{key_id}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
        f"<SessionToken>{token}</SessionToken><Expiration>2100-01-01T00:00:00Z</Expiration></Credentials>"
        f"</{action}Result><ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata></{action}Response>"
    )


ROLE_CREDS = [
    ("ASIAROLEONEEXAMPLE", "roleOneSecret/K7MDENG+EXAMPLE", "FwoGZXIvYXdzEROLEONE//token="),
    ("ASIAROLETWOEXAMPLE", "roleTwoSecret/K7MDENG+EXAMPLE", "FwoGZXIvYXdzEROLETWO//token="),
]


def capture(config, credentials, profile, service, region, env_extra=None):
    """The requests botocore sends, and the STS answers it was given."""
    with tempfile.TemporaryDirectory() as d:
        files = {}
        paths = {}
        for name, text in (("config", config), ("credentials", credentials)):
            p = os.path.join(d, name)
            if text is not None:
                with open(p, "w") as f:
                    f.write(text.replace(TOKEN_FILE, os.path.join(d, "token")))
            paths[name] = p
        with open(os.path.join(d, "token"), "w") as f:
            f.write(WEB_TOKEN)
        env = {"AWS_CONFIG_FILE": paths["config"], "AWS_SHARED_CREDENTIALS_FILE": paths["credentials"], "AWS_PROFILE": profile}
        env.update(env_extra or {})
        seen, answers = [], []

        def before_send(request, **kw):
            body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
            skip = {"user-agent", "amz-sdk-invocation-id", "amz-sdk-request", "content-length"}
            headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items() if k.lower() not in skip}
            seen.append({"method": request.method, "url": request.url, "headers": headers, "body": body})
            if "sts" in request.url and "Action=AssumeRoleWithWebIdentity" in body:
                c = ROLE_CREDS[len(answers)]
                xml = sts_xml("AssumeRoleWithWebIdentity", *c)
            elif "sts" in request.url:
                c = ROLE_CREDS[len(answers)]
                xml = sts_xml("AssumeRole", *c)
            else:
                return AWSResponse(request.url, 400, {}, None)
            answers.append(xml)
            raw = mock.Mock()
            raw.stream.return_value = [xml.encode()]
            return AWSResponse(request.url, 200, {}, raw)

        fixed = datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc).replace(tzinfo=None)
        with mock.patch.dict(os.environ, env, clear=True), \
             mock.patch.object(botocore.auth, "get_current_datetime", return_value=fixed), \
             mock.patch("botocore.credentials._local_now", return_value=fixed.replace(tzinfo=datetime.timezone.utc)):
            session = botocore.session.Session()
            session.register("before-send", before_send)
            client = session.create_client(service, region_name=region)
            try:
                if service == "ecr":
                    client.get_authorization_token()
                else:
                    client.get_caller_identity()
            except Exception:
                pass
        return seen, answers


def case(id, source, config, credentials, profile, expect_index, registry=None, region_env=None, env_extra=None, service_region=None, token=False):
    region = service_region or (registry.split(".")[3] if registry else region_env)
    service = "ecr" if registry else "sts"
    seen, answers = capture(config, credentials, profile, service, region, env_extra)
    environment = {"AWS_CONFIG_FILE": CONFIG, "AWS_SHARED_CREDENTIALS_FILE": CREDENTIALS, "AWS_PROFILE": profile}
    if region_env:
        environment["AWS_REGION"] = region_env
    environment.update(env_extra or {})
    inputs = {"environment": environment}
    if registry:
        inputs["registry"] = registry
    else:
        inputs["provider"] = "aws"
    file_answers = [{"file": config}, {"file": credentials}]
    if token:
        file_answers.append({"token": WEB_TOKEN})
    http = [{"status": 200, "body": a} for a in answers[:expect_index]]
    inputs["answers"] = file_answers + http
    inputs["now"] = NOW
    r = seen[expect_index]
    request = {"method": r["method"], "url": r["url"], "headers": r["headers"]}
    if r["body"]:
        request["body"] = r["body"]
    return {"id": id, "source": f"botocore {botocore.__version__}, {source} (tests/cases/capture/aws_shared_config.py, clock fixed at {NOW})", "input": inputs, "expect": {"request": request}}


STATIC_CREDS = "[default]\naws_access_key_id = AKIDDEFAULTEXAMPLE\naws_secret_access_key = defaultSecret\n\n[ci]\naws_access_key_id = AKIDCIEXAMPLE\naws_secret_access_key = ciSecret/K7MDENG+bPxRfiCYEXAMPLEKEY\naws_session_token = ciSessionToken//+=\n"
CONFIG_TEXT = """[default]
region = us-west-2

[profile ci]
region = eu-west-1
aws_access_key_id = AKIDCONFIGFILEEXAMPLE
aws_secret_access_key = configFileSecret

[profile deploy]
role_arn = arn:aws:iam::123456789012:role/deploy
source_profile = ci
role_session_name = cloudauth-deploy
duration_seconds = 3600
external_id = flux-ext-1234

[profile chained]
role_arn = arn:aws:iam::210987654321:role/ecr-reader
source_profile = deploy
role_session_name = cloudauth-chained
duration_seconds = 1800

[profile irsa]
role_arn = arn:aws:iam::123456789012:role/irsa
web_identity_token_file = /var/run/secrets/eks.amazonaws.com/serviceaccount/token
role_session_name = cloudauth-irsa

[profile fips]
region = us-east-1
use_fips_endpoint = true
role_arn = arn:aws:iam::123456789012:role/fips
source_profile = ci
role_session_name = cloudauth-fips
duration_seconds = 3600
"""
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"

cases = [
    case("static-keys-from-credentials-file", "shared credentials file (the credentials file's keys win over the config file's for the same profile; the session token comes with them)", CONFIG_TEXT, STATIC_CREDS, "ci", 0, registry=REGISTRY),
    case("assume-role-source-profile", "assume role provider: role_arn + source_profile, AssumeRole signed by the source profile's keys, with RoleSessionName, DurationSeconds and ExternalId from the profile", CONFIG_TEXT, STATIC_CREDS, "deploy", 0, registry=REGISTRY),
    case("assume-role-then-ecr", "assume role provider, then ECR GetAuthorizationToken signed with the role's credentials", CONFIG_TEXT, STATIC_CREDS, "deploy", 1, registry=REGISTRY),
    case("assume-role-chain-first", "source_profile chain: the inner role first", CONFIG_TEXT, STATIC_CREDS, "chained", 0, registry=REGISTRY),
    case("assume-role-chain-second", "source_profile chain: the outer role, signed by the inner role's credentials", CONFIG_TEXT, STATIC_CREDS, "chained", 1, registry=REGISTRY),
    case("assume-role-chain-then-ecr", "source_profile chain, then ECR GetAuthorizationToken signed with the outer role's credentials", CONFIG_TEXT, STATIC_CREDS, "chained", 2, registry=REGISTRY),
    case("web-identity-token-file-profile", "role_arn + web_identity_token_file in a profile: AssumeRoleWithWebIdentity with the file's token", CONFIG_TEXT, STATIC_CREDS, "irsa", 0, registry=REGISTRY, token=True),
    case("region-and-fips-from-profile", "the profile's region and use_fips_endpoint choose the STS endpoint (no AWS_REGION)", CONFIG_TEXT, STATIC_CREDS, "fips", 0, service_region="us-east-1"),
]
json.dump({"op": "session.request", "cases": cases}, sys.stdout, indent=1)
print()
