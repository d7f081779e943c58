"""The cloudauth component, called from Python through wasmtime-py.

Every test goes through the built `target/cloudauth.wasm`: this proves the
component works for a Python host, not just the Rust core.
"""

import base64
import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from cloudauth import CloudauthError, Session, Variant, drive

NOW = 1705320000
TENANT = "72f988bf-0000-4000-8000-00000000a11e"
CLIENT = "0d0e0a0d-beef-4000-8000-00000000c1d0"
ACR_SCOPE = "https://containerregistry.azure.net/.default"
ACR_USER = "00000000-0000-0000-0000-000000000000"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt(claims: dict) -> str:
    """An unsigned JWT-shaped token: the component reads claims, never verifies."""
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}.{b64url(b'fake-signature')}"


def header(request: dict, name: str) -> str:
    values = [v for k, v in request["headers"] if k.lower() == name.lower()]
    assert len(values) == 1, f"header {name} present {len(values)} times in {request['headers']}"
    return values[0]


def form(request: dict) -> dict:
    pairs = parse_qsl(request["body"].decode(), keep_blank_values=True, strict_parsing=True)
    as_dict = dict(pairs)
    assert len(as_dict) == len(pairs), "a form field is repeated"
    return as_dict


def response(status: int, body, headers=()) -> dict:
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return {"status": status, "headers": list(headers), "body": body}


# --- The component itself ----------------------------------------------------------------------


def test_component_imports_nothing(ca):
    assert ca.import_count() == 0


# --- resolve -----------------------------------------------------------------------------------


def test_resolve_acr(ca):
    target = ca.resolve.resolve_registry("myregistry.azurecr.io/app:v1", None)
    assert target == {
        "provider": "azure",
        "registry": "myregistry.azurecr.io",
        "azure_cloud": "azure-public",
        "aws": None,
    }


def test_resolve_acr_china_from_oci_url(ca):
    target = ca.resolve.resolve_registry("oci://MyRegistry.azurecr.cn/charts/podinfo", None)
    assert (target["provider"], target["registry"], target["azure_cloud"]) == (
        "azure",
        "myregistry.azurecr.cn",
        "azure-china",
    )


def test_resolve_ecr(ca):
    target = ca.resolve.resolve_registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0", None)
    assert target["provider"] == "aws"
    assert target["registry"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert target["aws"] == {
        "account_id": "123456789012",
        "region": "us-east-1",
        "partition": "aws",
        "fips": False,
        "public": False,
    }


def test_resolve_ecr_public(ca):
    target = ca.resolve.resolve_registry("public.ecr.aws/nginx/nginx:latest", None)
    assert target["provider"] == "aws"
    assert target["aws"]["public"] is True
    assert target["aws"]["account_id"] is None
    assert target["aws"]["region"] == "us-east-1"


def test_resolve_gar_and_gcr(ca):
    gar = ca.resolve.resolve_registry("europe-west1-docker.pkg.dev/my-project/repo/app:1", None)
    assert (gar["provider"], gar["registry"]) == ("gcp", "europe-west1-docker.pkg.dev")
    gcr = ca.resolve.resolve_registry("gcr.io/my-project/app", None)
    assert (gcr["provider"], gcr["registry"]) == ("gcp", "gcr.io")


@pytest.mark.parametrize(
    "reference, registry",
    [
        ("myregistry.azurecr.io.evil.example/app", "myregistry.azurecr.io.evil.example"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/app", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example"),
        ("gcr.io.evil.example/p/app", "gcr.io.evil.example"),
        ("registry.example.com:5000/team/app", "registry.example.com:5000"),
        ("alpine", "docker.io"),
    ],
)
def test_look_alikes_and_others_are_generic(ca, reference, registry):
    target = ca.resolve.resolve_registry(reference, None)
    assert target == {"provider": "generic", "registry": registry, "azure_cloud": None, "aws": None}


@pytest.mark.parametrize("reference", ["", "user:pass@myregistry.azurecr.io/app", "myregistry.azurecr.io/app\n:v1"])
def test_resolve_rejects_hostile_input(ca, reference):
    with pytest.raises(CloudauthError) as err:
        ca.resolve.resolve_registry(reference, None)
    assert err.value.kind == "invalid-input"
    assert "pass" not in err.value.message  # userinfo is not echoed


def test_registry_scopes(ca):
    assert ca.resolve.registry_scopes("myregistry.azurecr.io/app", None) == [ACR_SCOPE]
    assert ca.resolve.registry_scopes("us-docker.pkg.dev/p/r/app", None) == [
        "https://www.googleapis.com/auth/cloud-platform",
        "https://www.googleapis.com/auth/userinfo.email",
    ]
    with pytest.raises(CloudauthError) as err:
        ca.resolve.registry_scopes("ghcr.io/o/app", None)
    assert err.value.kind == "unsupported"


def test_custom_azure_cloud(ca):
    env = {
        "resource_manager_endpoint": "https://management.contoso-cloud.example",
        "token_audience": "https://management.core.contoso-cloud.example",
        "container_registry_dns_suffix": "azurecr.contoso-cloud.example",
    }
    target = ca.resolve.resolve_registry("myregistry.azurecr.contoso-cloud.example/app", env)
    assert (target["provider"], target["azure_cloud"]) == ("azure", "azure-custom")
    assert ca.resolve.registry_scopes("myregistry.azurecr.contoso-cloud.example/app", env) == [
        "https://management.contoso-cloud.example/.default"
    ]


def test_service_account_audiences(ca):
    assert ca.resolve.service_account_audience("azure") == "api://AzureADTokenExchange"
    assert ca.resolve.service_account_audience("aws") == "sts.amazonaws.com"
    with pytest.raises(CloudauthError) as err:
        ca.resolve.service_account_audience("gcp")
    assert err.value.kind == "unsupported"


# --- Azure -------------------------------------------------------------------------------------


def test_entra_token_request(ca):
    assertion = fake_jwt({"aud": ["api://AzureADTokenExchange"], "sub": "system:serviceaccount:default:sa"})
    request = ca.azure.entra_token_request(Variant("cloud", "azure-public"), TENANT, CLIENT, ACR_SCOPE, assertion)
    assert request["method"] == "POST"
    assert request["url"] == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert header(request, "Content-Type") == "application/x-www-form-urlencoded"
    assert form(request) == {
        "client_assertion": assertion,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_id": CLIENT,
        "grant_type": "client_credentials",
        "scope": ACR_SCOPE,
    }


def test_entra_token_request_china_and_explicit_host(ca):
    china = ca.azure.entra_token_request(Variant("cloud", "azure-china"), TENANT, CLIENT, ACR_SCOPE, "a.b.c")
    assert urlsplit(china["url"]).hostname == "login.chinacloudapi.cn"
    host = ca.azure.entra_token_request(Variant("host", "https://login.example.test/"), TENANT, CLIENT, ACR_SCOPE, "a.b.c")
    assert host["url"] == f"https://login.example.test/{TENANT}/oauth2/v2.0/token"


def test_entra_token_request_refuses_plain_http(ca):
    with pytest.raises(CloudauthError) as err:
        ca.azure.entra_token_request(Variant("host", "http://login.microsoftonline.com"), TENANT, CLIENT, ACR_SCOPE, "secret-assertion")
    assert err.value.kind == "invalid-input"
    assert "secret-assertion" not in str(err.value)


def test_parse_entra_token(ca):
    token = fake_jwt({"aud": "https://containerregistry.azure.net", "exp": 4102444800})
    body = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
    assert ca.azure.parse_entra_token(response(200, body), NOW) == {"token": token, "expires_at": NOW + 3599}


def test_entra_error_has_the_service_code_and_description(ca):
    body = {
        "error": "invalid_client",
        "error_description": "AADSTS700213: No matching federated identity record found",
        "error_codes": [700213],
        "trace_id": "0a1b2c3d-trace",
    }
    with pytest.raises(CloudauthError) as err:
        ca.azure.parse_entra_token(response(400, body), NOW)
    assert (err.value.kind, err.value.status, err.value.code) == ("http-status", 400, "invalid_client")
    assert err.value.message == "AADSTS700213: No matching federated identity record found"
    assert "0a1b2c3d-trace" not in str(err.value)  # only the description, never the body


def test_error_bodies_that_are_not_the_protocol_are_not_echoed(ca):
    echoed = b"<html>upstream echoed your request: client_assertion=hunter2-secret</html>"
    with pytest.raises(CloudauthError) as err:
        ca.azure.parse_entra_token(response(502, echoed), NOW)
    assert (err.value.kind, err.value.status, err.value.code) == ("http-status", 502, None)
    assert "hunter2-secret" not in str(err.value)
    with pytest.raises(CloudauthError) as err:
        ca.azure.parse_entra_token(response(200, b'{"access_token": "hunter2-secret", "expires_in": "soon"'), NOW)
    assert err.value.kind == "malformed-response"
    assert "hunter2-secret" not in str(err.value)


def test_entra_2xx_that_is_not_json_is_malformed(ca):
    with pytest.raises(CloudauthError) as err:
        ca.azure.parse_entra_token(response(200, b"<html>proxy</html>"), NOW)
    assert err.value.kind == "malformed-response"


def test_imds_request_with_client_id(ca):
    request = ca.azure.imds_token_request(ACR_SCOPE, Variant("client-id", CLIENT))
    assert request["method"] == "GET"
    url = urlsplit(request["url"])
    assert (url.scheme, url.netloc, url.path) == ("http", "169.254.169.254", "/metadata/identity/oauth2/token")
    query = dict(parse_qsl(url.query))
    assert query["resource"] == "https://containerregistry.azure.net"
    assert query["client_id"] == CLIENT
    assert header(request, "Metadata") == "true"


def test_acr_exchange_round_trip(ca):
    request = ca.azure.acr_exchange_request("myregistry.azurecr.io", "entra-access-token", None)
    assert request["method"] == "POST"
    assert request["url"] == "https://myregistry.azurecr.io/oauth2/exchange?api-version=2021-07-01"
    fields = form(request)
    assert (fields["grant_type"], fields["service"], fields["access_token"]) == (
        "access_token",
        "myregistry.azurecr.io",
        "entra-access-token",
    )
    refresh = fake_jwt({"exp": 4102444800, "aud": "myregistry.azurecr.io"})
    creds = ca.azure.parse_acr_exchange(response(200, {"refresh_token": refresh}), NOW)
    assert creds == {"username": ACR_USER, "password": refresh, "expires_at": 4102444800}


def test_acr_exchange_registry_error_code(ca):
    body = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
    with pytest.raises(CloudauthError) as err:
        ca.azure.parse_acr_exchange(response(401, body), NOW)
    assert (err.value.kind, err.value.status, err.value.code) == ("http-status", 401, "UNAUTHORIZED")


def test_fixed_scopes(ca):
    assert ca.azure.aks_scope() == "6dae42f8-4368-4678-94ff-3960e28e3630/.default"
    assert ca.azure.devops_scope() == "499b84ac-1321-427f-aa17-267ca6975798/.default"
    assert ca.azure.arm_scope("azure-public", None) == "https://management.azure.com/.default"


# --- OCI (distribution token auth) -------------------------------------------------------------


def test_parse_challenge(ca):
    challenge = ca.oci.parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull repository:c:pull,push"'
    )
    assert challenge == {
        "scheme": "Bearer",
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scopes": ["repository:a/b:pull", "repository:c:pull,push"],
    }


def test_registry_token_request_with_basic_credentials(ca):
    request = ca.oci.token_request(
        "https://registry.example.test/token", "registry.example.test", ["repository:team/app:pull"], "wirecap", "s3cr3t-p@ss"
    )
    assert request["method"] == "GET"
    url = urlsplit(request["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "registry.example.test", "/token")
    assert parse_qsl(url.query) == [("service", "registry.example.test"), ("scope", "repository:team/app:pull")]
    assert header(request, "Authorization") == "Basic " + base64.b64encode(b"wirecap:s3cr3t-p@ss").decode()


def test_registry_token_default_lifetime_is_60s(ca):
    token = ca.oci.parse_token(response(200, {"access_token": "registry-token"}), NOW)
    assert token == {"token": "registry-token", "expires_at": NOW + 60}


def test_registry_token_without_token_is_malformed(ca):
    with pytest.raises(CloudauthError) as err:
        ca.oci.parse_token(response(200, {"expires_in": 300}), NOW)
    assert err.value.kind == "malformed-response"


# --- AWS and GCP -------------------------------------------------------------------------------


def test_sigv4_matches_the_aws_suite(ca):
    """`get-vanilla-query-order-key-case` from the official AWS SigV4 test suite."""
    request = {
        "method": "GET",
        "url": "https://example.amazonaws.com/?Param2=value2&Param1=value1",
        "headers": [("Host", "example.amazonaws.com")],
        "body": b"",
    }
    params = {
        "credentials": {
            "access_key_id": "AKIDEXAMPLE",
            "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "session_token": None,
            "expires_at": None,
        },
        "region": "us-east-1",
        "service": "service",
        "now": 1440938160,  # 20150830T123600Z
        "normalize_path": True,
        "sign_body_header": False,
        "unsigned_headers": [],
        "omit_session_token": False,
    }
    signed = ca.sigv4.sign_request(request, params)
    assert signed["signature"] == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    assert header(signed["request"], "X-Amz-Date") == "20150830T123600Z"
    assert header(signed["request"], "Authorization") == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    )
    # sign-headers: only what signing sets, the same values, in order.
    assert ca.sigv4.sign_headers(request, params) == [
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", header(signed["request"], "Authorization")),
    ]



def test_aws_sts_endpoint(ca):
    endpoint = ca.aws.resolve_endpoint("sts", "eu-west-1", {"fips": False, "dualstack": False, "legacy": False})
    assert endpoint == {"url": "https://sts.eu-west-1.amazonaws.com", "signing_region": "eu-west-1"}
    with pytest.raises(CloudauthError) as err:
        ca.aws.resolve_endpoint("sts", "eu-west-1.evil.example/", {"fips": False, "dualstack": False, "legacy": False})
    assert err.value.kind == "invalid-input"


def test_gcp_docker_credentials(ca):
    creds = ca.gcp.docker_credentials({"token": "ya29.token", "expires_at": NOW + 3600})
    assert creds == {"username": "oauth2accesstoken", "password": "ya29.token", "expires_at": NOW + 3600}


# --- session -----------------------------------------------------------------------------------


def options(environment=(), username=None, password=None) -> dict:
    return {
        "environment": list(environment),
        "azure_environment": None,
        "sts_endpoint": None,
        "object_level_workload_identity": False,
        "registry_username": username,
        "registry_password": password,
        "trusted_realm_hosts": [],
        "skip_cache": True,
    }


class FakeCloud:
    """Answers a session's requests from a table keyed by (method, URL
    without query), and records them. An unexpected request fails the test."""

    def __init__(self, routes: dict):
        self.routes = routes
        self.requests: list[dict] = []

    def __call__(self, request: dict) -> dict:
        self.requests.append(request)
        url = urlsplit(request["url"])
        key = (request["method"], f"{url.scheme}://{url.netloc}{url.path}")
        assert key in self.routes, f"unexpected request {key}"
        route = self.routes[key]
        return route(request) if callable(route) else route


def test_session_rejects_a_hostile_target(ca):
    request = {
        "target": Variant("registry", "myregistry.azurecr.io/app\r\nX: y"),
        "identity": Variant("controller"),
        "options": options(),
        "now": NOW,
    }
    with pytest.raises(CloudauthError) as err:
        ca.start_session(request)
    assert err.value.kind == "invalid-input"


def test_session_azure_workload_identity_to_done(ca):
    """Controller-level Azure workload identity for an ACR registry: the
    federated token file, Entra, then the ACR exchange."""
    token_file = "/var/run/secrets/azure/tokens/azure-identity-token"
    environment = [
        ("AZURE_CLIENT_ID", CLIENT),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_FEDERATED_TOKEN_FILE", token_file),
        ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/"),
    ]
    assertion = fake_jwt({"aud": ["api://AzureADTokenExchange"], "sub": "system:serviceaccount:flux-system:source-controller"})
    entra_token = fake_jwt({"aud": "https://containerregistry.azure.net", "exp": NOW + 3600})
    refresh = fake_jwt({"aud": "myregistry.azurecr.io", "exp": NOW + 10800})

    def entra(request):
        fields = form(request)
        assert fields["client_assertion"] == assertion
        assert (fields["client_id"], fields["scope"]) == (CLIENT, ACR_SCOPE)
        return response(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": entra_token})

    def exchange(request):
        assert form(request)["access_token"] == entra_token
        return response(200, {"refresh_token": refresh})

    cloud = FakeCloud(
        {
            ("POST", f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"): entra,
            ("POST", "https://myregistry.azurecr.io/oauth2/exchange"): exchange,
        }
    )
    asked: list[dict] = []

    def identity_token(request):
        asked.append(request)
        return assertion

    request = {"target": Variant("registry", "myregistry.azurecr.io/app:v1"), "identity": Variant("controller"), "options": options(environment), "now": NOW}
    with ca.start_session(request) as session:
        result = drive(session, cloud, identity_token, lambda: NOW)
        assert len(session.cache_key()) == 64
        assert session.from_cache() is False
    assert asked == [{"audience": "api://AzureADTokenExchange", "service_account": None, "file": token_file}]
    assert result == Variant("registry", {"username": ACR_USER, "password": refresh, "expires_at": NOW + 10800})
    # The Entra token only ever went to the registry itself.
    for sent in cloud.requests:
        if entra_token in sent["body"].decode(errors="replace"):
            assert urlsplit(sent["url"]).hostname == "myregistry.azurecr.io"


def test_session_generic_registry_with_basic_credentials(ca):
    """A plain registry behind distribution token auth: the session turns
    basic credentials into registry credentials, sending them only to the
    registry and its same-host realm."""
    registry = "registry.example.test:5000"
    token = fake_jwt({"iss": "token-server", "exp": NOW + 300, "access": []})
    basic = "Basic " + base64.b64encode(b"alice:wonderland").decode()
    challenge = f'Bearer realm="https://{registry}/token",service="{registry}"'

    def token_endpoint(request):
        assert header(request, "Authorization") == basic
        return response(200, {"token": token, "expires_in": 300})

    def ping(request):
        auth = [v for k, v in request["headers"] if k.lower() == "authorization"]
        if auth == [f"Bearer {token}"]:
            return response(200, b"{}")
        return response(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}, [("WWW-Authenticate", challenge)])

    cloud = FakeCloud({("GET", f"https://{registry}/v2/"): ping, ("GET", f"https://{registry}/token"): token_endpoint})
    request = {
        "target": Variant("registry", f"{registry}/team/app:1"),
        "identity": Variant("controller"),
        "options": options(username="alice", password="wonderland"),
        "now": NOW,
    }
    with ca.start_session(request) as session:
        result = drive(session, cloud, lambda r: pytest.fail(f"no identity token expected: {r}"), lambda: NOW)
    assert result.tag == "registry"
    creds = result.payload
    assert creds["username"] and creds["password"]
    for sent in cloud.requests:
        assert urlsplit(sent["url"]).netloc == registry


def test_session_failed_step_carries_the_service_error(ca):
    environment = [
        ("AZURE_CLIENT_ID", CLIENT),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token"),
    ]
    bad = response(400, {"error": "invalid_client", "error_description": "AADSTS700213: no federated identity"})
    cloud = FakeCloud({("POST", f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"): bad})
    request = {"target": Variant("registry", "myregistry.azurecr.io/app"), "identity": Variant("controller"), "options": options(environment), "now": NOW}
    with ca.start_session(request) as session:
        with pytest.raises(CloudauthError) as err:
            drive(session, cloud, lambda r: fake_jwt({"sub": "x"}), lambda: NOW)
    assert (err.value.kind, err.value.status, err.value.code) == ("http-status", 400, "invalid_client")


def test_closed_session_refuses_calls(ca):
    session = Session(ca, None)
    with pytest.raises(ValueError):
        session.next()


def test_session_reads_the_pod_identity_token_file(ca, tmp_path):
    """EKS Pod Identity: the session asks for the token file with a
    read-file step; drive's default reader reads it from disk and the agent
    receives its contents. A missing file is handed over as None and fails
    naming the variable."""
    token = fake_jwt({"aud": ["pods.eks.amazonaws.com"], "exp": NOW + 3600})
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text(token)
    agent = "http://169.254.170.23/v1/credentials"

    def credentials(request):
        assert header(request, "Authorization") == token
        return response(200, {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s", "Token": "t", "Expiration": "2100-01-01T00:00:00Z"})

    environment = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", agent),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(token_file)),
    ]
    request = {"target": Variant("access-token", ("aws", [])), "identity": Variant("controller"), "options": options(environment), "now": NOW}
    cloud = FakeCloud({("GET", agent): credentials})
    with ca.start_session(request) as session:
        result = drive(session, cloud, lambda r: pytest.fail(f"no identity token expected: {r}"), lambda: NOW)
    assert result.tag == "aws"
    assert result.payload["access_key_id"] == "ASIAEXAMPLE"

    token_file.unlink()
    with ca.start_session(request) as session:
        with pytest.raises(CloudauthError) as err:
            drive(session, cloud, lambda r: pytest.fail("no identity token expected"), lambda: NOW)
    assert err.value.kind == "invalid-input"
    assert "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" in str(err.value)
