"""The pure calls: what cloudauth decides for a target, without any I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from ._component import Cloudauth, CloudauthError


@dataclass(frozen=True)
class Explanation:
    provider: str
    registry: str
    azure_cloud: Optional[str]
    #: For ECR: account_id, region, partition, fips, public.
    aws: Optional[Mapping[str, Any]]
    #: The cloud token's scopes (none for AWS and generic registries).
    scopes: list[str]
    #: The service-account token audience, where the provider has a fixed one.
    audience: Optional[str]


def explain(instance: Cloudauth, reference: str, azure_environment: Optional[Mapping[str, Any]] = None) -> Explanation:
    """What cloudauth resolves for a registry reference: provider, registry
    host, cloud, token scopes and service-account token audience."""
    target = instance.resolve.resolve_registry(reference, azure_environment)
    try:
        scopes: list[str] = instance.resolve.registry_scopes(reference, azure_environment)
    except CloudauthError as e:
        if e.kind != "unsupported":
            raise
        scopes = []
    try:
        audience: Optional[str] = instance.resolve.service_account_audience(target["provider"])
    except CloudauthError as e:
        if e.kind != "unsupported":
            raise
        audience = None
    return Explanation(target["provider"], target["registry"], target["azure_cloud"], target["aws"], scopes, audience)
