"""Using the installed `cloudauth` package, as a user would; `mypy --strict`
checks it against the package's type hints (py.typed).

Run by test_package.sh from a fresh virtual environment, against real
servers on 127.0.0.1: the e2e's loopback registry (the generic flow, with
the right and a wrong password) and the Google metadata fake (an Artifact
Registry flow, then the same call answered from the host cache).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import cloudauth
from cloudauth import AccessToken, Client, CloudauthError, FlowError, RegistryCredentials


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set: run under host-examples/e2e/with_registry.sh")
    return value


def metadata_token_requests(log: str) -> int:
    with open(log) as f:
        return sum(1 for line in f if json.loads(line)["path"].endswith("/token"))


def main() -> None:
    registry = need("CLOUDAUTH_E2E_REGISTRY")
    user = need("CLOUDAUTH_E2E_USER")
    password = need("CLOUDAUTH_E2E_PASSWORD")
    realm_host = need("CLOUDAUTH_E2E_REALM_HOST")

    explained = cloudauth.explain("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app")
    assert explained.aws is not None and explained.aws["partition"] == "aws-cn"
    print("ok: explain")

    creds: RegistryCredentials = cloudauth.get_registry_credentials(
        f"{registry}/e2e/hello:v1",
        registry_username=user,
        registry_password=password,
        trusted_realm_hosts=[realm_host],
    )
    assert (creds.registry, creds.username, creds.password, creds.expires_at) == (registry, user, password, None)
    print(f"ok: loopback registry credentials for {creds.registry} (user {creds.username})")

    try:
        cloudauth.get_registry_credentials(
            f"{registry}/e2e/hello:v1", registry_username=user, registry_password="wrong", trusted_realm_hosts=[realm_host]
        )
        raise AssertionError("a wrong password gave credentials")
    except FlowError as e:
        assert (e.kind, e.status, e.step, e.host) == ("http-status", 401, 2, realm_host), e
        assert "wrong" not in str(e)
        print(f"ok: a wrong password fails: {e}")

    client = Client(env={"GCE_METADATA_HOST": need("CLOUDAUTH_E2E_METADATA_HOST")})
    gar = client.get_registry_credentials("europe-docker.pkg.dev/my-project/repo/app:1")
    assert gar.username == "oauth2accesstoken" and gar.password == need("CLOUDAUTH_E2E_METADATA_TOKEN")
    assert gar.expires_at is not None and gar.expires_at > datetime.now(tz=timezone.utc)
    again = client.get_registry_credentials("europe-docker.pkg.dev/my-project/repo/app:1")
    assert again.password == gar.password
    assert metadata_token_requests(need("CLOUDAUTH_E2E_METADATA_LOG")) == 1, "the second call came from the host cache"
    print(f"ok: Artifact Registry from the metadata fake, expires {gar.expires_at.isoformat()}, second call cached")

    token = client.get_access_token("gcp")
    assert isinstance(token, AccessToken) and token.token == gar.password
    print("ok: a Google access token")

    try:
        cloudauth.get_registry_credentials("")
    except CloudauthError as e:
        print(f"ok: bad input: {e}")


if __name__ == "__main__":
    main()
