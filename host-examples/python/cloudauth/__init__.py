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
from typing import Any, Callable, Concatenate, Mapping, Optional, ParamSpec, TypeVar

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

P = ParamSpec("P")
R = TypeVar("R")

_default: Optional[Client] = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The client the module-level calls use (made on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


def _on_default_client(method: Callable[Concatenate[Client, P], R]) -> Callable[P, R]:
    """A Client method as a module function on the default client, with
    the method's own signature (so type checkers check the options)."""

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return method(default_client(), *args, **kwargs)

    call.__name__ = method.__name__
    call.__qualname__ = method.__name__
    call.__doc__ = method.__doc__
    return call


get_registry_credentials = _on_default_client(Client.get_registry_credentials)
get_access_token = _on_default_client(Client.get_access_token)
get_git_credentials = _on_default_client(Client.get_git_credentials)
get_rest_config = _on_default_client(Client.get_rest_config)


def clear_cache() -> None:
    """Drops every credential the default client cached."""
    default_client().clear_cache()


def explain(reference: str, azure_environment: Optional[Mapping[str, Any]] = None) -> Explanation:
    """What cloudauth resolves for a registry reference. Pure: nothing is sent."""
    client = default_client()
    with client._component_lock:
        return _explain(client._instance, reference, azure_environment)


