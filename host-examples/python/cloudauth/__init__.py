"""cloudauth: cloud workload-identity credentials (container registries,
Git, Kubernetes; Azure, AWS, Google Cloud) from the cloudauth WebAssembly
component, run in wasmtime.

The high-level calls run a whole credential flow with real HTTP::

    import cloudauth
    creds = cloudauth.get_registry_credentials("myregistry.azurecr.io/app:v1")
    print(creds.username, creds.expires_at)

They share a default :class:`Client` (one component instance, one
credential cache); make your own for another transport or environment.
The component's raw interfaces are under :class:`Cloudauth`.
"""

from __future__ import annotations

import threading
from typing import Any, Mapping, Optional, Sequence, Union

from ._cache import CredentialCache
from ._client import (
    AccessToken,
    AwsCredentials,
    Client,
    Cluster,
    FlowError,
    GitCredentials,
    Identity,
    IdentityTokenSource,
    Provider,
    RegistryCredentials,
    RestConfig,
    ServiceAccount,
)
from ._component import (
    MAX_STEPS,
    PACKAGED_WASM,
    WIT_PACKAGE,
    WIT_VERSION,
    Cloudauth,
    CloudauthError,
    Session,
    Variant,
    default_wasm_path,
    drive,
)
from ._explain import Explanation
from ._explain import explain as _explain
from ._http import HttpRequest, HttpResponse, Transport

__version__ = "0.1.0"

__all__ = [
    "AccessToken",
    "AwsCredentials",
    "Client",
    "Cloudauth",
    "CloudauthError",
    "Cluster",
    "CredentialCache",
    "Explanation",
    "FlowError",
    "GitCredentials",
    "HttpRequest",
    "HttpResponse",
    "Identity",
    "IdentityTokenSource",
    "MAX_STEPS",
    "PACKAGED_WASM",
    "Provider",
    "RegistryCredentials",
    "RestConfig",
    "ServiceAccount",
    "Session",
    "Transport",
    "Variant",
    "WIT_PACKAGE",
    "WIT_VERSION",
    "clear_cache",
    "default_client",
    "default_wasm_path",
    "drive",
    "explain",
    "get_access_token",
    "get_git_credentials",
    "get_registry_credentials",
    "get_rest_config",
]

_default: Optional[Client] = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The client the module-level calls use (made on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


def get_registry_credentials(reference: str, **options: Any) -> RegistryCredentials:
    """:meth:`Client.get_registry_credentials` on the default client."""
    return default_client().get_registry_credentials(reference, **options)


def get_access_token(provider: Provider, **options: Any) -> Union[AccessToken, AwsCredentials]:
    """:meth:`Client.get_access_token` on the default client."""
    return default_client().get_access_token(provider, **options)


def get_git_credentials(url: str, **options: Any) -> GitCredentials:
    """:meth:`Client.get_git_credentials` on the default client."""
    return default_client().get_git_credentials(url, **options)


def get_rest_config(cluster: Cluster, **options: Any) -> RestConfig:
    """:meth:`Client.get_rest_config` on the default client."""
    return default_client().get_rest_config(cluster, **options)


def clear_cache() -> None:
    """Drops every credential the default client cached."""
    default_client().clear_cache()


def explain(reference: str, azure_environment: Optional[Mapping[str, Any]] = None) -> Explanation:
    """What cloudauth resolves for a registry reference. Pure: nothing is sent."""
    client = default_client()
    with client._component_lock:
        return _explain(client._instance, reference, azure_environment)


