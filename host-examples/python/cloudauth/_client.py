"""The high-level API: one call per kind of credentials, each running a
cloudauth session to its end with real I/O, synchronously.

A :class:`Client` holds what calls share: the component instance, the
transport, the environment, and the credential cache (the host's, keyed by
the session's ``cache-key()``). Concurrent calls for one key share one flow.
Failures raise :class:`FlowError` (a :class:`CloudauthError`) naming the
target, the step, what it did and the host it talked to.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Literal, Mapping, Optional, Sequence, Union

from ._cache import CredentialCache
from ._component import Cloudauth, CloudauthError, Session, Variant, _read_file
from ._http import HttpRequest, HttpResponse, Transport, host_of, redact_url, ssl_context

#: The most steps a flow may take; real flows take fewer than ten.
MAX_STEPS = 32

Provider = Literal["azure", "aws", "gcp", "generic"]


@dataclass(frozen=True)
class ServiceAccount:
    """A Kubernetes service account, for object-level workload identity."""

    namespace: str
    name: str
    annotations: Mapping[str, str] = field(default_factory=dict)


#: Whose identity: the host's own, or a service account's.
Identity = Union[Literal["controller"], ServiceAccount]

#: The identity token for a request (a ``fetch-identity-token`` step's record).
IdentityTokenSource = Union[str, Callable[[Mapping[str, Any]], str]]


def _datetime(seconds: Optional[int]) -> Optional[datetime]:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=timezone.utc)


@dataclass(frozen=True)
class RegistryCredentials:
    registry: str
    username: str
    password: str = field(repr=False)
    expires_at: Optional[datetime] = None


@dataclass(frozen=True)
class AccessToken:
    token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: Optional[str] = field(default=None, repr=False)
    expires_at: Optional[datetime] = None


@dataclass(frozen=True)
class GitCredentials:
    username: str
    password: str = field(repr=False)
    bearer_token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class Cluster:
    provider: Provider
    #: AKS resource ID, EKS cluster ARN, or ``projects/<p>/locations/<l>/clusters/<c>``.
    resource_id: str
    address: Optional[str] = None
    ca_data: Optional[str] = None


@dataclass(frozen=True)
class RestConfig:
    host: str
    ca_data: Optional[str]
    bearer_token: str = field(repr=False)
    expires_at: datetime


class FlowError(CloudauthError):
    """A failed flow. ``kind`` is a WIT error case (``invalid-input``,
    ``unsupported``, ``http-status``, ``malformed-response``) or a host one
    (``transport``, ``identity-token``, ``host``); ``step`` is 1-based (0:
    the start), ``action`` what the step did, ``host`` the host of a
    ``send-http`` step."""

    def __init__(
        self,
        message: str,
        kind: str,
        target: str,
        step: int,
        action: str,
        host: Optional[str],
        status: Optional[int] = None,
        code: Optional[str] = None,
    ) -> None:
        super().__init__(kind, message, status=status, code=code)
        self.target = target
        self.step = step
        self.action = action
        self.host = host
        self.args = (message,)

    def __str__(self) -> str:
        return self.message


class _Context:
    """Where a flow is: what a failure there is reported against."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.step = 0
        self.action = "start"
        self.host: Optional[str] = None
        self.what = "start"

    def sending(self, request: HttpRequest) -> None:
        self.step += 1
        self.action = "send-http"
        self.host = host_of(request["url"])
        self.what = f"{request['method']} {redact_url(request['url'])}"

    def fetching_token(self, request: Mapping[str, Any]) -> None:
        self.step += 1
        self.action = "fetch-identity-token"
        self.host = None
        account = request.get("service_account")
        whose = f"service account {'/'.join(account)}" if account else "own identity"
        file = request.get("file")
        audience = request.get("audience") or "default"
        self.what = f"identity token ({whose}, audience {audience}{f', file {file}' if file else ''})"

    def error(self, kind: str, detail: str, status: Optional[int] = None, code: Optional[str] = None) -> FlowError:
        where = "start" if self.step == 0 else f"step {self.step} {self.what}"
        message = f"cloudauth: {self.target}: {where}: {detail}"
        return FlowError(message, kind, self.target, self.step, self.action, self.host, status, code)

    def component_error(self, error: CloudauthError) -> FlowError:
        return self.error(error.kind, str(error), error.status, error.code)


def _safe_target(reference: str) -> str:
    """A reference fit for an error message: no userinfo, no control characters."""
    text = re.sub(r"[\x00-\x1f\x7f]", "?", reference)
    text = re.sub(r"//[^/@]*@", "//", text)
    return re.sub(r"^[^/@]*@", "", text)[:200] or '""'


def _non_empty(value: Optional[str]) -> Optional[str]:
    return value if value else None


class Client:
    """Credentials for registries, Git, clusters and clouds, with one
    component instance, transport and cache shared by every call.

    ``send`` replaces the HTTP transport (a function of an ``http-request``
    giving an ``http-response``: tests, proxies). ``env`` replaces
    ``os.environ`` as the environment. ``ca_file`` adds trusted CA
    certificates (default: ``$CLOUDAUTH_CA_FILE``).
    """

    def __init__(
        self,
        *,
        env: Optional[Mapping[str, str]] = None,
        send: Optional[Callable[[HttpRequest], HttpResponse]] = None,
        ca_file: Optional[str] = None,
        wasm: Optional[str] = None,
        now: Optional[Callable[[], int]] = None,
        cache_capacity: int = 256,
    ) -> None:
        self._env = env
        self._send = send
        self._transport: Optional[Transport] = None
        self._ca_file = ca_file
        self._now = now or (lambda: int(time.time()))
        self._instance = Cloudauth(wasm)
        # The variables the flows read, as the component lists them: the
        # only ones of the environment handed over (others may be secrets).
        self._environment_names = frozenset(self._instance.session.environment_names())
        self._component_lock = threading.RLock()
        self._cache: CredentialCache[Variant] = CredentialCache(cache_capacity)
        self._flow_locks: dict[str, threading.Lock] = {}
        self._flow_locks_lock = threading.Lock()

    # --- the calls ------------------------------------------------------------------------

    def get_registry_credentials(
        self,
        reference: str,
        *,
        identity: Identity = "controller",
        env: Optional[Mapping[str, str]] = None,
        identity_token: Optional[IdentityTokenSource] = None,
        token_file: Optional[str] = None,
        registry_username: Optional[str] = None,
        registry_password: Optional[str] = None,
        trusted_realm_hosts: Optional[Sequence[str]] = None,
        azure_environment: Optional[Mapping[str, Optional[str]]] = None,
        sts_endpoint: Optional[str] = None,
    ) -> RegistryCredentials:
        """Registry credentials for an image reference, registry host or ``oci://`` URL."""
        environ = self._environ(env)
        options = self._options(
            environ, identity, registry_username, registry_password, trusted_realm_hosts, azure_environment, sts_endpoint
        )
        try:
            with self._component_lock:
                target = self._instance.resolve.resolve_registry(reference, options["azure_environment"])
        except CloudauthError as e:
            raise _Context(_safe_target(reference)).component_error(e) from None
        registry: str = target["registry"]
        if target["provider"] == "generic" and options["registry_username"] is None:
            raise _Context(registry).error(
                "unsupported",
                f"unsupported: {registry} is not a cloud registry and no registry credentials are configured for it",
            )
        result = self._run(Variant("registry", reference), registry, environ, options, identity, identity_token, token_file)
        c = _expect(result, "registry", registry)
        return RegistryCredentials(registry, c["username"], c["password"], _datetime(c["expires_at"]))

    def get_access_token(
        self,
        provider: Provider,
        *,
        scopes: Sequence[str] = (),
        identity: Identity = "controller",
        env: Optional[Mapping[str, str]] = None,
        identity_token: Optional[IdentityTokenSource] = None,
        token_file: Optional[str] = None,
        sts_endpoint: Optional[str] = None,
    ) -> Union[AccessToken, AwsCredentials]:
        """A cloud access token for ``scopes`` (default: the provider's); for
        ``aws``, the AWS credentials themselves."""
        environ = self._environ(env)
        options = self._options(environ, identity, None, None, None, None, sts_endpoint)
        target = Variant("access-token", (provider, list(scopes)))
        result = self._run(target, provider, environ, options, identity, identity_token, token_file)
        if result.tag == "aws":
            c: Any = result.payload
            return AwsCredentials(
                c["access_key_id"], c["secret_access_key"], c["session_token"], _datetime(c["expires_at"])
            )
        c = _expect(result, "access-token", provider)
        return AccessToken(c["token"], datetime.fromtimestamp(c["expires_at"], tz=timezone.utc))

    def get_git_credentials(
        self,
        url: str,
        *,
        identity: Identity = "controller",
        env: Optional[Mapping[str, str]] = None,
        identity_token: Optional[IdentityTokenSource] = None,
        token_file: Optional[str] = None,
    ) -> GitCredentials:
        """Git credentials for an ``https://`` repository URL (Azure DevOps)."""
        environ = self._environ(env)
        options = self._options(environ, identity, None, None, None, None, None)
        name = _safe_target(url)
        result = self._run(Variant("git", url), name, environ, options, identity, identity_token, token_file)
        c = _expect(result, "git", name)
        expires = datetime.fromtimestamp(c["expires_at"], tz=timezone.utc)
        return GitCredentials(c["username"], c["password"], c["bearer_token"], expires)

    def get_github_app_credentials(
        self,
        url: str,
        *,
        app_id: str,
        private_key: str,
        installation_id: Optional[str] = None,
        installation_owner: Optional[str] = None,
        base_url: Optional[str] = None,
    ) -> GitCredentials:
        """Git credentials for a GitHub (Enterprise) ``https://`` URL from a
        GitHub App's installation token (user ``x-access-token``). The
        arguments are Flux's secret keys: ``githubAppID``,
        ``githubAppPrivateKey`` (the PEM text, not a path),
        ``githubAppInstallationID`` or ``githubAppInstallationOwner``,
        ``githubAppBaseURL``."""
        environ = self._environ({})
        options = self._options(environ, "controller", None, None, None, None, None)
        record = {
            "url": url,
            "app_id": app_id,
            "installation_id": installation_id,
            "installation_owner": installation_owner,
            "private_key": private_key,
            "base_url": base_url,
        }
        name = _safe_target(url)
        result = self._run(Variant("github-app", record), name, environ, options, "controller", None, None)
        c = _expect(result, "git", name)
        expires = datetime.fromtimestamp(c["expires_at"], tz=timezone.utc)
        return GitCredentials(c["username"], c["password"], c["bearer_token"], expires)

    def get_rest_config(
        self,
        cluster: Cluster,
        *,
        identity: Identity = "controller",
        env: Optional[Mapping[str, str]] = None,
        identity_token: Optional[IdentityTokenSource] = None,
        token_file: Optional[str] = None,
        sts_endpoint: Optional[str] = None,
    ) -> RestConfig:
        """How to reach a Kubernetes cluster (AKS, EKS, GKE)."""
        environ = self._environ(env)
        options = self._options(environ, identity, None, None, None, None, sts_endpoint)
        record = {
            "provider": cluster.provider,
            "resource_id": cluster.resource_id,
            "address": cluster.address,
            "ca_data": cluster.ca_data,
        }
        name = cluster.resource_id
        result = self._run(Variant("cluster", record), name, environ, options, identity, identity_token, token_file)
        c = _expect(result, "rest-config", name)
        expires = datetime.fromtimestamp(c["expires_at"], tz=timezone.utc)
        return RestConfig(c["host"], c["ca_data"], c["bearer_token"], expires)

    def clear_cache(self) -> None:
        """Drops every cached credential."""
        self._cache.clear()

    # --- the flow -------------------------------------------------------------------------

    def _environ(self, env: Optional[Mapping[str, str]]) -> Mapping[str, str]:
        if env is not None:
            return env
        return self._env if self._env is not None else os.environ

    def _options(
        self,
        environ: Mapping[str, str],
        identity: Identity,
        registry_username: Optional[str],
        registry_password: Optional[str],
        trusted_realm_hosts: Optional[Sequence[str]],
        azure_environment: Optional[Mapping[str, Optional[str]]],
        sts_endpoint: Optional[str],
    ) -> dict[str, Any]:
        """The WIT ``options``, as the Rust host builds them from its
        environment; explicit arguments win."""
        if trusted_realm_hosts is None:
            hosts = environ.get("CLOUDAUTH_TRUSTED_REALM_HOSTS") or ""
            trusted_realm_hosts = [h.strip() for h in hosts.split(",") if h.strip()]
        environment = sorted((k, v) for k, v in environ.items() if k in self._environment_names)
        env_file = None
        if azure_environment is not None:
            env_file = {
                "resource_manager_endpoint": azure_environment.get("resource_manager_endpoint"),
                "token_audience": azure_environment.get("token_audience"),
                "container_registry_dns_suffix": azure_environment.get("container_registry_dns_suffix"),
            }
        return {
            "environment": environment,
            "azure_environment": env_file,
            "sts_endpoint": sts_endpoint or _non_empty(environ.get("CLOUDAUTH_STS_ENDPOINT")),
            "object_level_workload_identity": isinstance(identity, ServiceAccount),
            "registry_username": registry_username or _non_empty(environ.get("CLOUDAUTH_REGISTRY_USERNAME")),
            "registry_password": registry_password or _non_empty(environ.get("CLOUDAUTH_REGISTRY_PASSWORD")),
            "trusted_realm_hosts": list(trusted_realm_hosts),
            # The host keeps the cache (by cache-key), shared by every call.
            "skip_cache": True,
        }

    def _flow_lock(self, key: str) -> threading.Lock:
        with self._flow_locks_lock:
            return self._flow_locks.setdefault(key, threading.Lock())

    def _run(
        self,
        target: Variant,
        name: str,
        environ: Mapping[str, str],
        options: dict[str, Any],
        identity: Identity,
        identity_token: Optional[IdentityTokenSource],
        token_file: Optional[str],
    ) -> Variant:
        """Starts a session; answers from the cache, or waits for the same
        flow in another thread, or drives it."""
        context = _Context(name)
        if isinstance(identity, ServiceAccount):
            wit_identity = Variant(
                "service-account",
                {"namespace": identity.namespace, "name": identity.name, "annotations": list(identity.annotations.items())},
            )
        elif identity == "controller":
            wit_identity = Variant("controller")
        else:
            raise TypeError("identity must be 'controller' or a ServiceAccount")
        request = {"target": target, "identity": wit_identity, "options": options, "now": self._now()}
        try:
            with self._component_lock:
                session = self._instance.start_session(request)
                key = session.cache_key()
        except CloudauthError as e:
            raise context.component_error(e) from None
        try:
            with self._flow_lock(key):
                cached = self._cache.get(key, self._now())
                if cached is not None:
                    return cached
                result = self._drive(session, context, environ, identity_token, token_file)
                credentials: Any = result.payload
                expires = credentials.get("expires_at")
                self._cache.set(key, result, expires, self._now())
                return result
        finally:
            with self._component_lock:
                session.close()

    def _http(self, request: HttpRequest, environ: Mapping[str, str]) -> HttpResponse:
        if self._send is not None:
            return self._send(request)
        if self._transport is None:
            self._transport = Transport(ssl_context(self._ca_file or _non_empty(os.environ.get("CLOUDAUTH_CA_FILE"))))
        return self._transport.send(request, environ)

    def _drive(
        self,
        session: Session,
        context: _Context,
        environ: Mapping[str, str],
        identity_token: Optional[IdentityTokenSource],
        token_file: Optional[str],
    ) -> Variant:
        for _ in range(MAX_STEPS):
            with self._component_lock:
                step = session.next()
            payload: Any = step.payload
            if step.tag == "done":
                result: Variant = payload
                return result
            if step.tag == "failed":
                raise context.component_error(CloudauthError.from_variant(payload))
            if step.tag == "send-http":
                context.sending(payload)
                try:
                    response = self._http(payload, environ)
                except (ConnectionError, ValueError) as e:
                    raise context.error("transport", str(e)) from e
                self._hand_over(context, lambda: session.receive_http(response, self._now()))
            elif step.tag == "fetch-identity-token":
                context.fetching_token(payload)
                try:
                    token = _identity_token(payload, identity_token, token_file)
                except (OSError, ValueError) as e:
                    raise context.error("identity-token", str(e)) from e
                self._hand_over(context, lambda: session.receive_identity_token(token, self._now()))
            elif step.tag == "read-file":
                # A missing file is an answer (the SDK chain goes on); other
                # read errors end the flow, naming the file.
                try:
                    contents = _read_file(payload)
                except OSError as e:
                    raise context.error("host", f"cannot read {payload}: {e}") from e
                self._hand_over(context, lambda: session.receive_file(contents, self._now()))
            else:
                raise context.error("host", f"unknown step {step.tag}")
        raise context.error("host", f"the flow did not finish within {MAX_STEPS} steps")

    def _hand_over(self, context: _Context, call: Callable[[], None]) -> None:
        try:
            with self._component_lock:
                call()
        except CloudauthError as e:
            raise context.component_error(e) from None


def _identity_token(
    request: Mapping[str, Any], given: Optional[IdentityTokenSource], token_file: Optional[str]
) -> str:
    """The token a step asks for: ``given`` (a string, or a function of the
    request) if any; else a service account's token is missing, and the
    host's own is read from ``token_file`` or the file the flow names (the
    SDK convention, e.g. ``AWS_WEB_IDENTITY_TOKEN_FILE``)."""
    if isinstance(given, str):
        return given
    if given is not None:
        return str(given(request))
    if request.get("service_account"):
        raise ValueError("the flow needs the service account's token: pass identity_token")
    file = token_file or request.get("file")
    if not file:
        raise ValueError(
            f"the flow needs an identity token with audience {request.get('audience')} and names no token file: "
            "pass identity_token or token_file"
        )
    try:
        with open(file, encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as e:
        raise ValueError(f"cannot read the identity token file {file}: {e.strerror or e}") from None
    if not token:
        raise ValueError(f"the identity token file {file} is empty")
    return token


def _expect(result: Variant, tag: str, name: str) -> Any:
    if result.tag != tag:
        raise FlowError(
            f"cloudauth: {name}: the flow gave {result.tag} credentials, not {tag}", "host", name, 0, "start", None
        )
    return result.payload
