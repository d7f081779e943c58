"""The high-level API (cloudauth.Client), through the built component, with
an injected transport standing in for the network: flows, the host-side
cache, errors that name the step and host, token files, the pure calls.
The same calls against real servers (the loopback registry, the metadata
fake) run from the installed wheel: test_package.sh."""

from __future__ import annotations

import base64
import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest

import cloudauth
from cloudauth import Client, CloudauthError, FlowError, HttpRequest, HttpResponse, ServiceAccount

NOW = 1705320000
GAR = "europe-docker.pkg.dev/my-project/repo/app:1"
REGISTRY = "registry.example.test"
METADATA = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"


def response(status: int, body: object, headers: tuple[tuple[str, str], ...] = ()) -> HttpResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return {"status": status, "headers": [("Content-Type", "application/json"), *headers], "body": data}


class FakeNetwork:
    """Answers by URL prefix, records every request."""

    def __init__(self, routes: dict[str, Callable[[HttpRequest], HttpResponse]]) -> None:
        self.routes = routes
        self.calls: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.calls.append(request)
        for prefix, answer in self.routes.items():
            if request["url"].startswith(prefix):
                return answer(request)
        raise ConnectionError(f"{request['method']} {request['url'].split('?')[0]} failed: connection refused")


def metadata_token(token: str, expires_in: int = 3600) -> Callable[[HttpRequest], HttpResponse]:
    return lambda _r: response(200, {"access_token": token, "expires_in": expires_in, "token_type": "Bearer"})


@pytest.fixture(scope="module")
def wasm() -> str:
    path = cloudauth.default_wasm_path()
    if not path.is_file():
        pytest.fail(f"{path} is missing: build it with `cargo xtask build`")
    return str(path)


def test_gar_from_the_metadata_server(wasm: str) -> None:
    net = FakeNetwork({METADATA: metadata_token("ya29.first")})
    client = Client(env={}, send=net, wasm=wasm, now=lambda: NOW)
    creds = client.get_registry_credentials(GAR)
    assert (creds.registry, creds.username, creds.password) == ("europe-docker.pkg.dev", "oauth2accesstoken", "ya29.first")
    assert creds.expires_at == datetime.fromtimestamp(NOW + 3600, tz=timezone.utc)
    assert len(net.calls) == 1
    assert ("Metadata-Flavor", "Google") in net.calls[0]["headers"]
    assert "ya29" not in repr(creds), "secrets stay out of repr"


def test_the_host_cache_until_80_percent_of_the_lifetime(wasm: str) -> None:
    now = [NOW]
    tokens = iter(f"ya29.token-{i}" for i in range(1, 10))
    net = FakeNetwork({METADATA: lambda r: metadata_token(next(tokens), 1000)(r)})
    client = Client(env={}, send=net, wasm=wasm, now=lambda: now[0])
    assert client.get_registry_credentials(GAR).password == "ya29.token-1"
    now[0] += 799
    assert client.get_registry_credentials(GAR).password == "ya29.token-1"
    assert len(net.calls) == 1
    now[0] += 1
    assert client.get_registry_credentials(GAR).password == "ya29.token-2"
    client.get_access_token("gcp")  # another target: another key
    assert len(net.calls) == 3
    client.clear_cache()
    client.get_registry_credentials(GAR)
    assert len(net.calls) == 4


def test_concurrent_calls_share_one_flow(wasm: str) -> None:
    gate = threading.Event()

    def slow(request: HttpRequest) -> HttpResponse:
        gate.wait(5)
        return metadata_token("ya29.shared")(request)

    net = FakeNetwork({METADATA: slow})
    client = Client(env={}, send=net, wasm=wasm, now=lambda: NOW)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(client.get_registry_credentials(GAR).password)) for _ in range(3)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert results == ["ya29.shared"] * 3
    assert len(net.calls) == 1


def test_a_refused_request_names_the_step_and_host(wasm: str) -> None:
    net = FakeNetwork({METADATA: lambda _r: {"status": 403, "headers": [], "body": b"Forbidden"}})
    client = Client(env={}, send=net, wasm=wasm, now=lambda: NOW)
    with pytest.raises(FlowError) as e:
        client.get_registry_credentials(GAR)
    err = e.value
    assert isinstance(err, CloudauthError)
    assert (err.kind, err.status, err.step, err.action, err.host) == ("http-status", 403, 1, "send-http", "metadata.google.internal")
    assert str(err).startswith(f"cloudauth: europe-docker.pkg.dev: step 1 GET {METADATA}: http-status 403")
    assert "scopes=" not in str(err)


def test_a_network_failure_is_a_transport_error(wasm: str) -> None:
    client = Client(env={}, send=FakeNetwork({}), wasm=wasm, now=lambda: NOW)
    with pytest.raises(FlowError) as e:
        client.get_registry_credentials(GAR)
    assert (e.value.kind, e.value.host) == ("transport", "metadata.google.internal")
    assert "connection refused" in str(e.value)


def test_generic_registry_and_a_wrong_password(wasm: str) -> None:
    basic = "Basic " + base64.b64encode(b"alice:s3cret").decode()

    def token(request: HttpRequest) -> HttpResponse:
        if ("Authorization", basic) in request["headers"] or ("authorization", basic) in request["headers"]:
            return response(200, {"token": "reg-token", "expires_in": 300})
        return response(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})

    challenge = ("WWW-Authenticate", f'Bearer realm="https://{REGISTRY}/token",service="reg"')
    net = FakeNetwork({f"https://{REGISTRY}/v2/": lambda _r: response(401, {}, (challenge,)), f"https://{REGISTRY}/token": token})
    env = {"CLOUDAUTH_REGISTRY_USERNAME": "alice", "CLOUDAUTH_REGISTRY_PASSWORD": "s3cret"}
    client = Client(env=env, send=net, wasm=wasm, now=lambda: NOW)
    creds = client.get_registry_credentials(f"{REGISTRY}/team/app:v1")
    assert (creds.registry, creds.username, creds.password, creds.expires_at) == (REGISTRY, "alice", "s3cret", None)
    with pytest.raises(FlowError) as e:
        client.get_registry_credentials(f"{REGISTRY}/team/app:v1", registry_password="wrong")
    assert (e.value.kind, e.value.step, e.value.host, e.value.status) == ("http-status", 2, REGISTRY, 401)
    assert f"step 2 GET https://{REGISTRY}/token: http-status 401" in str(e.value)
    assert "wrong" not in str(e.value) and "s3cret" not in str(e.value)


def test_generic_registry_without_credentials_is_unsupported(wasm: str) -> None:
    net = FakeNetwork({})
    client = Client(env={}, send=net, wasm=wasm)
    with pytest.raises(FlowError, match="ghcr.io is not a cloud registry") as e:
        client.get_registry_credentials("ghcr.io/o/app")
    assert e.value.kind == "unsupported"
    assert net.calls == []


def test_bad_input_fails_at_the_start_without_echoing_userinfo(wasm: str) -> None:
    client = Client(env={}, send=FakeNetwork({}), wasm=wasm)
    with pytest.raises(FlowError) as e:
        client.get_registry_credentials("user:hunter2@myregistry.azurecr.io/app")
    assert (e.value.kind, e.value.step) == ("invalid-input", 0)
    assert "hunter2" not in str(e.value)


def test_token_files_are_read_and_a_missing_one_is_named(wasm: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("header.payload.signature\n")
    seen: list[str] = []

    def entra(request: HttpRequest) -> HttpResponse:
        from urllib.parse import parse_qs

        seen.append(parse_qs(request["body"].decode())["client_assertion"][0])
        return response(401, {"error": "invalid_client", "error_description": "AADSTS700016: no such app"})

    env = {"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "72f988bf-0000-4000-8000-00000000a11e", "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}
    client = Client(env=env, send=FakeNetwork({"https://login.microsoftonline.com/": entra}), wasm=wasm, now=lambda: NOW)
    with pytest.raises(FlowError) as e:
        client.get_registry_credentials("myregistry.azurecr.io/app")
    assert (e.value.step, e.value.host, e.value.code) == (2, "login.microsoftonline.com", "invalid_client")
    assert seen == ["header.payload.signature"]
    missing = {**env, "AZURE_FEDERATED_TOKEN_FILE": str(tmp_path / "missing")}
    with pytest.raises(FlowError) as e:
        client.get_registry_credentials("myregistry.azurecr.io/app", env=missing)
    assert (e.value.kind, e.value.step) == ("identity-token", 1)
    assert "cannot read the identity token file" in str(e.value) and "missing" in str(e.value)


def test_a_service_accounts_token_must_be_given(wasm: str) -> None:
    client = Client(env={"AWS_REGION": "us-east-1"}, send=FakeNetwork({}), wasm=wasm, now=lambda: NOW)
    identity = ServiceAccount("default", "app", {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/r"})
    with pytest.raises(FlowError, match=r"service account default/app, audience sts\.amazonaws\.com.*pass identity_token") as e:
        client.get_registry_credentials("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", identity=identity)
    assert e.value.kind == "identity-token"


def test_gce_metadata_host_routes_metadata_requests() -> None:
    from cloudauth._http import route_url

    assert route_url(METADATA + "?scopes=x", {"GCE_METADATA_HOST": "127.0.0.1:8080"}).startswith("http://127.0.0.1:8080/computeMetadata/")
    assert route_url("https://metadata.google.internal/x", {"GCE_METADATA_HOST": "127.0.0.1:8080"}) == "https://metadata.google.internal/x"
    assert route_url("http://login.microsoftonline.com/x", {"GCE_METADATA_HOST": "127.0.0.1"}) == "http://login.microsoftonline.com/x"
    with pytest.raises(ValueError):
        route_url(METADATA, {"GCE_METADATA_HOST": "evil.example/x?"})


def test_explain_is_pure(wasm: str) -> None:
    from cloudauth._component import Cloudauth
    from cloudauth._explain import explain

    ca = Cloudauth(wasm)
    acr = explain(ca, "myregistry.azurecr.io/app:v1")
    assert (acr.provider, acr.registry, acr.azure_cloud, acr.audience) == ("azure", "myregistry.azurecr.io", "azure-public", "api://AzureADTokenExchange")
    assert acr.scopes == ["https://containerregistry.azure.net/.default"]
    ecr = explain(ca, "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/app")
    assert ecr.aws is not None and ecr.aws["partition"] == "aws-us-gov" and ecr.scopes == []
    with pytest.raises(CloudauthError):
        explain(ca, "")


def test_the_cache_bounds() -> None:
    cache: cloudauth.CredentialCache[int] = cloudauth.CredentialCache(2)
    cache.set("a", 1, NOW + 100, NOW)
    cache.set("b", 2, None, NOW)
    cache.set("c", 3, NOW, NOW)
    assert len(cache) == 1
    cache.set("d", 4, NOW + 100000, NOW)
    assert cache.get("d", NOW + 3599) == 4 and cache.get("d", NOW + 3600) is None
    cache.set("e", 5, NOW + 100, NOW)
    cache.set("f", 6, NOW + 100, NOW)
    assert len(cache) == 2 and cache.get("a", NOW) is None


AZURE_ENV = {
    "AZURE_CLIENT_ID": "0d0e0a0d-beef-4000-8000-00000000c1d0",
    "AZURE_TENANT_ID": "72f988bf-0000-4000-8000-00000000a11e",
    "AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token",
}
FAKE_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xvdWRhdXRoIGZha2UgY2EwCgYIKoZIzj0EAwIwADAeFw0y\n-----END CERTIFICATE-----\n"


def test_git_credentials_for_azure_devops(wasm: str) -> None:
    from urllib.parse import parse_qs

    forms: list[dict[str, list[str]]] = []

    def entra(request: HttpRequest) -> HttpResponse:
        forms.append(parse_qs(request["body"].decode()))
        return response(200, {"access_token": "devops-token", "expires_in": 3600, "token_type": "Bearer"})

    client = Client(env=AZURE_ENV, send=FakeNetwork({"https://login.microsoftonline.com/": entra}), wasm=wasm, now=lambda: NOW)
    git = client.get_git_credentials("https://dev.azure.com/org/project/_git/repo", identity_token="header.payload.signature")
    assert (git.username, git.password, git.bearer_token) == ("azure-devops", "devops-token", "devops-token")
    assert git.expires_at == datetime.fromtimestamp(NOW + 3600, tz=timezone.utc)
    # Azure DevOps' resource ID, as Microsoft documents it for Entra tokens.
    assert forms[0]["scope"] == ["499b84ac-1321-427f-aa17-267ca6975798/.default"]
    assert forms[0]["client_assertion"] == ["header.payload.signature"]
    with pytest.raises(FlowError) as e:
        client.get_git_credentials("https://github.com/o/r", identity_token="x")
    assert (e.value.kind, e.value.step) == ("unsupported", 0)


def test_git_credentials_from_a_github_app(wasm: str) -> None:
    """The installation looked up by owner (organization, then user), then
    the token, as GitHub's REST docs answer; the app JWT carries Flux's claims."""
    key = (Path(__file__).parent / "../../tests/data/test-rsa-pkcs1.pem").read_text()
    seen: list[HttpRequest] = []

    def api(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        url = request["url"]
        if url.endswith("/orgs/octocat/installation"):
            return response(404, {"message": "Not Found"})
        if url.endswith("/users/octocat/installation"):
            return response(200, {"id": 4242, "account": {"login": "octocat"}})
        return response(201, {"token": "ghs_16C7e42F292c6912E7710c838347Ae178B4a", "expires_at": "2024-01-15T13:00:00Z"})

    client = Client(env={}, send=FakeNetwork({"https://api.github.com/": api}), wasm=wasm, now=lambda: NOW)
    git = client.get_github_app_credentials(
        "https://github.com/octocat/hello.git", app_id="123456", private_key=key, installation_owner="octocat"
    )
    assert (git.username, git.password) == ("x-access-token", "ghs_16C7e42F292c6912E7710c838347Ae178B4a")
    assert git.expires_at == datetime.fromtimestamp(NOW + 3600, tz=timezone.utc)
    assert [(r["method"], r["url"]) for r in seen] == [
        ("GET", "https://api.github.com/orgs/octocat/installation"),
        ("GET", "https://api.github.com/users/octocat/installation"),
        ("POST", "https://api.github.com/app/installations/4242/access_tokens"),
    ]
    jwt = dict(seen[2]["headers"])["Authorization"].removeprefix("Bearer ")
    claims = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    assert claims == {"iss": "123456", "iat": NOW - 30, "exp": NOW + 90}
    with pytest.raises(FlowError) as e:
        client.get_github_app_credentials("https://gitlab.example/o/r", app_id="1", private_key=key, installation_id="2")
    assert e.value.kind == "invalid-input"


def test_rest_config_for_eks_with_known_address_and_ca(wasm: str) -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "AWS_REGION": "us-east-1"}
    net = FakeNetwork({})
    client = Client(env=env, send=net, wasm=wasm, now=lambda: NOW)
    address = "https://ABCDEF0123.gr7.us-east-1.eks.amazonaws.com"
    cluster = cloudauth.Cluster("aws", "arn:aws:eks:us-east-1:123456789012:cluster/demo", address, FAKE_PEM)
    config = client.get_rest_config(cluster)
    assert (config.host, config.ca_data, net.calls) == (address, FAKE_PEM, [])
    # The token format aws-iam-authenticator and `aws eks get-token` use.
    assert config.bearer_token.startswith("k8s-aws-v1.")
    encoded = config.bearer_token[len("k8s-aws-v1.") :]
    from urllib.parse import parse_qs, urlsplit

    presigned = urlsplit(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode())
    query = parse_qs(presigned.query)
    assert presigned.netloc == "sts.us-east-1.amazonaws.com"
    assert query["Action"] == ["GetCallerIdentity"] and query["X-Amz-SignedHeaders"] == ["host;x-k8s-aws-id"]
    assert "wJalr" not in repr(config)


def test_home_finds_the_aws_shared_credentials_as_the_sdk_chain_does(wasm: str, tmp_path: Path) -> None:
    # HOME is among the variables the component lists, so ~/.aws/credentials is read.
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAFROMHOMEFILE\naws_secret_access_key = secret-from-the-file\n"
    )
    token = base64.b64encode(b"AWS:ecr-password").decode()
    # GetAuthorizationToken's answer, as the ECR API reference documents it.
    ecr = lambda _r: response(
        200,
        {"authorizationData": [{"authorizationToken": token, "expiresAt": NOW + 43200, "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"}]},
    )
    net = FakeNetwork({"https://api.ecr.eu-west-1.amazonaws.com/": ecr})
    client = Client(env={"HOME": str(tmp_path), "GITHUB_TOKEN": "unrelated"}, send=net, wasm=wasm, now=lambda: NOW)
    creds = client.get_registry_credentials("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1")
    assert (creds.username, creds.password) == ("AWS", "ecr-password")
    assert len(net.calls) == 1
    authorization = dict((k.lower(), v) for k, v in net.calls[0]["headers"])["authorization"]
    assert "Credential=AKIAFROMHOMEFILE/" in authorization
