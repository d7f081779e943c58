#!/usr/bin/env python3
"""Checks every configuration block of docs/hosts.md.

Each fenced block must parse as its language says (json, yaml, toml, sh)
and name only what exists:

* kubelet ``CredentialProviderConfig``: the fields of the upstream type
  (k8s.io/kubelet/config/v1 ``CredentialProvider`` and
  ``ServiceAccountTokenAttributes``, transcribed below), required fields
  present, enums and Go durations valid; ``name`` is cloudauth's executable
  and ``args`` a subcommand that answers a real ``CredentialProviderRequest``;
  ``env`` names variables cloudauth reads; ``tokenAttributes`` annotation
  keys are ones the component reads and the audience is the component's;
  ``matchImages`` (matched as the kubelet does) covers every registry host
  form of its cloud and no look-alike;
* docker / containers-auth.json: only ``auths``, ``credHelpers``,
  ``credsStore``; the helper ``cloudauth`` answers under its executable
  name; every ``credHelpers`` host is a registry the component resolves to a
  cloud;
* registries.conf, containerd and CRI-O TOML: known keys only;
* sh: every ``cloudauth-host`` / ``docker-credential-cloudauth`` command
  uses a subcommand and flags of the binary (``plan`` and ``list`` are run).

Usage: check_hosts.py [docs/hosts.md]; check_hosts.py --self-test
[docs/hosts.md] checks that single broken edits of the doc fail. The binary is $CLOUDAUTH_HOST (else
target/release/cloudauth-host), the component $CLOUDAUTH_WASM (else
target/cloudauth.wasm).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
HOST = Path(os.environ.get("CLOUDAUTH_HOST") or ROOT / "target/release/cloudauth-host")
WASM = os.environ.get("CLOUDAUTH_WASM") or str(ROOT / "target/cloudauth.wasm")

failures: list[str] = []
notes: set[str] = set()
checked: dict[str, int] = {}


def fail(where: str, message: str) -> None:
    failures.append(f"{where}: {message}")


def count(kind: str) -> None:
    checked[kind] = checked.get(kind, 0) + 1


_runs: dict[tuple[tuple[str, ...], str, str | None], subprocess.CompletedProcess[str]] = {}


def run(args: list[str], stdin: str = "", argv0: str | None = None) -> subprocess.CompletedProcess[str]:
    """Runs the binary (once per distinct call: the self-test repeats them)."""
    key = (tuple(args), stdin, argv0)
    if key not in _runs:
        _runs[key] = _run(args, stdin, argv0)
    return _runs[key]


def _run(args: list[str], stdin: str, argv0: str | None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "CLOUDAUTH_WASM": WASM}
    for name in ("CLOUDAUTH_REGISTRY_USERNAME", "CLOUDAUTH_REGISTRY_PASSWORD"):
        full_env.pop(name, None)
    executable = str(HOST)
    if argv0:
        link = Path(tempfile.mkdtemp()) / argv0
        link.symlink_to(HOST)
        executable = str(link)
    return subprocess.run([executable, *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=60)


# --- the upstream kubelet types (k8s.io/kubelet/config/v1/types.go) --------------------------

PROVIDER_FIELDS = {
    # field: (required, type)
    "name": (True, str),
    "matchImages": (True, list),
    "defaultCacheDuration": (True, str),
    "apiVersion": (True, str),
    "args": (False, list),
    "env": (False, list),
    "tokenAttributes": (False, dict),
}
TOKEN_ATTRIBUTE_FIELDS = {
    "serviceAccountTokenAudience": (True, str),
    "cacheType": (True, str),
    "requireServiceAccount": (True, bool),
    "requiredServiceAccountAnnotationKeys": (False, list),
    "optionalServiceAccountAnnotationKeys": (False, list),
}
CACHE_TYPES = {"Token", "ServiceAccount"}
PLUGIN_API_VERSIONS = {"credentialprovider.kubelet.k8s.io/v1"}
GO_DURATION = re.compile(r"^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$")


def check_fields(where: str, value: dict[str, Any], fields: dict[str, tuple[bool, type]]) -> None:
    for key in value:
        if key not in fields:
            fail(where, f"unknown field {key!r} (the upstream type has {sorted(fields)})")
    for key, (required, kind) in fields.items():
        if key not in value:
            if required:
                fail(where, f"required field {key!r} missing")
        elif not isinstance(value[key], kind):
            fail(where, f"{key!r} is not a {kind.__name__}")


def url_matches(pattern: str, image: str) -> bool:
    """The kubelet's match of an image against a matchImages entry
    (credentialprovider's URLsMatchStr): same number of host labels, each
    matched by a glob; a port in the pattern must match; the pattern's path
    is a prefix of the image's."""
    def parse(s: str) -> tuple[list[str], str | None, str]:
        parts = urlsplit("https://" + s)
        return (parts.hostname or "").split("."), parts.port and str(parts.port), parts.path

    p_host, p_port, p_path = parse(pattern)
    i_host, i_port, i_path = parse(image)
    if len(p_host) != len(i_host) or (p_port and p_port != i_port):
        return False
    if not all(fnmatch.fnmatchcase(i, p) for p, i in zip(p_host, i_host)):
        return False
    return i_path.startswith(p_path)


def check_match_image(where: str, pattern: str) -> None:
    host, _, path = pattern.partition("/")
    if "://" in pattern:
        fail(where, f"matchImages {pattern!r} has a scheme")
    if "*" in path or ":" in host and "*" in host.split(":", 1)[1]:
        fail(where, f"matchImages {pattern!r}: globs only in the host")


# Registry host forms per cloud, from the clouds' documentation (ACR
# sovereign clouds; ECR endpoints of every partition, FIPS and dual-stack;
# ECR Public; Artifact Registry locations; Container Registry hosts).
SAMPLES = {
    "azure": ["myregistry.azurecr.io", "myregistry.azurecr.cn", "myregistry.azurecr.us"],
    "aws": [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
        "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
        "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
        "123456789012.dkr.ecr-fips.us-iso-east-1.c2s.ic.gov",
        "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
        "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
        "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
        "123456789012.dkr-ecr.us-east-1.on.aws",
        "123456789012.dkr-ecr-fips.us-west-2.on.aws",
        "public.ecr.aws",
        "ecr-public.aws.com",
    ],
    "gcp": ["europe-docker.pkg.dev", "us-central1-docker.pkg.dev", "gcr.io", "eu.gcr.io", "asia.gcr.io"],
}
LOOK_ALIKES = [
    "myregistry.azurecr.io.evil.example",
    "evil.example/myregistry.azurecr.io",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
    "public.ecr.aws.evil.example",
    "gcr.io.evil.example",
    "europe-docker.pkg.dev.evil.example",
]


sys.path.insert(0, str(ROOT / "host-examples/python"))
from cloudauth import Cloudauth, CloudauthError  # noqa: E402  (the component, in wasmtime-py)

COMPONENT = Cloudauth(WASM)


def provider_of(host: str) -> str:
    """The provider the component resolves a registry host to."""
    try:
        return str(COMPONENT.resolve.resolve_registry(host, None)["provider"])
    except CloudauthError:
        return "invalid"


def audience_of(host: str) -> str | None:
    """The service-account token audience the component asks for, if fixed."""
    try:
        return str(COMPONENT.resolve.service_account_audience(provider_of(host)))
    except CloudauthError:
        return None


SOURCES = [*(ROOT / "src").rglob("*.rs"), *(ROOT / "host-examples").glob("*/src/**/*.rs")]
SOURCE_TEXT = "\n".join(p.read_text() for p in SOURCES)


def read_by_cloudauth(name: str) -> bool:
    """A name (environment variable, annotation) cloudauth's code reads."""
    return f'"{name}"' in SOURCE_TEXT


def check_kubelet(where: str, config: dict[str, Any]) -> None:
    count("kubelet CredentialProviderConfig")
    check_fields(where, config, {"apiVersion": (True, str), "kind": (True, str), "providers": (True, list)})
    if config.get("apiVersion") != "kubelet.config.k8s.io/v1":
        fail(where, f"apiVersion {config.get('apiVersion')!r}")
    for i, provider in enumerate(config.get("providers", [])):
        at = f"{where} providers[{i}]"
        check_fields(at, provider, PROVIDER_FIELDS)
        if provider.get("apiVersion") not in PLUGIN_API_VERSIONS:
            fail(at, f"apiVersion {provider.get('apiVersion')!r}")
        if not GO_DURATION.match(str(provider.get("defaultCacheDuration", ""))):
            fail(at, f"defaultCacheDuration {provider.get('defaultCacheDuration')!r} is not a Go duration")
        if provider.get("name") != "cloudauth-host":
            fail(at, f"name {provider.get('name')!r} is not the executable cloudauth-host")
        # The subcommand answers a real request: a registry cloudauth does not serve gets empty auth.
        request = json.dumps({"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest", "image": "registry.example.test/app"})
        done = run([str(a) for a in provider.get("args", [])], stdin=request)
        try:
            answer = json.loads(done.stdout)
            assert done.returncode == 0 and answer["kind"] == "CredentialProviderResponse" and answer["auth"] == {}
        except (ValueError, KeyError, AssertionError):
            fail(at, f"cloudauth-host {' '.join(provider.get('args', []))} does not answer as a provider: {done.stdout}{done.stderr}")
        for env in provider.get("env", []):
            check_fields(f"{at} env", env, {"name": (True, str), "value": (True, str)})
            if not read_by_cloudauth(env.get("name", "")):
                fail(at, f"env {env.get('name')!r} is not a variable cloudauth reads")
        patterns = [str(p) for p in provider.get("matchImages", [])]
        for pattern in patterns:
            check_match_image(at, pattern)
        # The cloud: the one whose registry host forms the patterns match.
        matched = {c: [h for h in hosts if any(url_matches(p, h + "/app") for p in patterns)] for c, hosts in SAMPLES.items()}
        clouds = [c for c, hosts in matched.items() if hosts]
        if len(clouds) != 1:
            fail(at, f"matchImages span clouds {clouds}")
            continue
        cloud = clouds[0]
        for pattern in patterns:
            if not any(url_matches(pattern, h + "/app") for h in SAMPLES[cloud]):
                fail(at, f"matchImages {pattern!r} matches no {cloud} registry host form")
        for look_alike in LOOK_ALIKES:
            if any(url_matches(p, look_alike + "/app") for p in patterns):
                fail(at, f"matchImages match the look-alike {look_alike}")
        attributes = provider.get("tokenAttributes")
        if attributes is None:
            # A node-identity example must cover every host form of its cloud.
            for host in SAMPLES[cloud]:
                if not any(url_matches(p, host + "/team/app:v1") for p in patterns):
                    fail(at, f"matchImages do not cover {host}")
                elif provider_of(host) != cloud:
                    notes.add(f"note: {host} is matched, but this component resolves it as a generic registry (empty auth)")
            count(f"{cloud} node identity")
        else:
            check_fields(f"{at} tokenAttributes", attributes, TOKEN_ATTRIBUTE_FIELDS)
            if attributes.get("cacheType") not in CACHE_TYPES:
                fail(at, f"cacheType {attributes.get('cacheType')!r}")
            required = attributes.get("requiredServiceAccountAnnotationKeys", [])
            optional = attributes.get("optionalServiceAccountAnnotationKeys", [])
            if required and attributes.get("requireServiceAccount") is not True:
                fail(at, "requiredServiceAccountAnnotationKeys need requireServiceAccount: true")
            if set(required) & set(optional):
                fail(at, "required and optional annotation keys overlap")
            for key in [*required, *optional]:
                if not read_by_cloudauth(key):
                    fail(at, f"annotation {key!r} is not one cloudauth reads")
            audience = attributes.get("serviceAccountTokenAudience", "")
            expected = audience_of(matched[cloud][0])
            if isinstance(expected, str):
                if audience != expected:
                    fail(at, f"serviceAccountTokenAudience {audience!r}, the component asks for {expected!r}")
            elif not re.fullmatch(r"//iam\.googleapis\.com/projects/\d+/locations/global/workloadIdentityPools/[^/]+/providers/[^/]+", audience):
                fail(at, f"serviceAccountTokenAudience {audience!r} is not a workload identity provider audience")
            count(f"{cloud} service-account tokens")


def check_docker_config(where: str, config: dict[str, Any]) -> None:
    count("docker/containers auth config")
    for key in config:
        if key not in {"auths", "credHelpers", "credsStore"}:
            fail(where, f"unknown key {key!r}")
    helpers = set(config.get("credHelpers", {}).values()) | ({config["credsStore"]} if "credsStore" in config else set())
    for helper in helpers:
        done = run(["list"], argv0=f"docker-credential-{helper}")
        if done.returncode != 0 or done.stdout.strip() != "{}":
            fail(where, f"docker-credential-{helper} list answered {done.stdout!r} {done.stderr!r}")
    for host in config.get("credHelpers", {}):
        if provider_of(host) == "generic":
            fail(where, f"credHelpers names {host}, which cloudauth does not serve")


HOSTS_TOML_KEYS = {"server", "host", "capabilities", "ca", "client", "skip_verify", "header", "override_path"}
REGISTRIES_CONF_KEYS = {
    "unqualified-search-registries", "short-name-mode", "credential-helpers", "registry", "aliases",
    "additional-layer-store-auth-helper",
}


def check_toml(where: str, config: dict[str, Any]) -> None:
    if "credential-helpers" in config:
        count("registries.conf")
        for key in config:
            if key not in REGISTRIES_CONF_KEYS:
                fail(where, f"unknown registries.conf key {key!r}")
        for helper in config["credential-helpers"]:
            if helper != "containers-auth.json":
                done = run(["list"], argv0=f"docker-credential-{helper}")
                if done.stdout.strip() != "{}":
                    fail(where, f"docker-credential-{helper} does not answer")
    elif "crio" in config:
        count("CRI-O")
        image = config["crio"].get("image", {})
        if set(config) != {"crio"} or set(config["crio"]) != {"image"} or set(image) != {"global_auth_file"}:
            fail(where, "expected only crio.image.global_auth_file")
    elif "plugins" in config:
        count("containerd config")
        if config.get("version") != 3:
            fail(where, "containerd 2.x config needs version = 3")
        registry = config["plugins"].get("io.containerd.cri.v1.images", {}).get("registry", {})
        if set(registry) != {"config_path"}:
            fail(where, "expected plugins.'io.containerd.cri.v1.images'.registry.config_path")
    elif "server" in config:
        count("containerd hosts.toml")
        for key in config:
            if key not in HOSTS_TOML_KEYS:
                fail(where, f"unknown hosts.toml key {key!r}")
        for url, host in config.get("host", {}).items():
            for key in host:
                if key not in HOSTS_TOML_KEYS - {"server", "host"}:
                    fail(where, f"unknown hosts.toml key {key!r} under {url}")
            if not set(host.get("capabilities", [])) <= {"pull", "resolve", "push"}:
                fail(where, "unknown capability")
    else:
        fail(where, f"a TOML block of no known kind: {sorted(config)}")


def check_sh(where: str, text: str) -> None:
    usage = run(["--help"]).stdout
    helper_usage = run([], argv0="docker-credential-cloudauth").stderr
    for line in text.splitlines():
        command = line.split("|")[-1].strip()
        words = shlex.split(command) if command else []
        if not words or words[0] not in {"cloudauth-host", "docker-credential-cloudauth"}:
            continue
        count("CLI command")
        flags = [w for w in words[1:] if w.startswith("-")]
        plain = [w for w in words[1:] if not w.startswith("-")]
        if words[0] == "docker-credential-cloudauth":
            if not plain or plain[0] not in re.findall(r"[a-z]+", helper_usage.split("<", 1)[-1]):
                fail(where, f"{command}: not an action of the helper ({helper_usage.strip()})")
            continue
        subcommand = plain[0] if plain else ""
        actions = re.findall(r"[a-z]+", helper_usage.split("<", 1)[-1])
        if subcommand == "credential-helper" and (len(plain) < 2 or plain[1] not in actions):
            fail(where, f"{command}: not an action of the helper ({helper_usage.strip()})")
        if not re.search(rf"(^|\s){re.escape(subcommand)}(\s|$)", usage, re.M):
            fail(where, f"{command}: {subcommand!r} is not a subcommand in cloudauth-host --help")
        for flag in flags:
            if flag not in usage:
                fail(where, f"{command}: {flag} is not a flag in cloudauth-host --help")
        if subcommand in {"plan"} or plain[:2] == ["credential-helper", "list"]:
            done = run(words[1:])
            if done.returncode != 0:
                fail(where, f"{command} failed: {done.stderr}")


def blocks(markdown: str) -> list[tuple[int, str, str]]:
    """(line, language, text) of every fenced block."""
    found = []
    for match in re.finditer(r"^```([a-z]*)\n(.*?)^```$", markdown, re.M | re.S):
        found.append((markdown[: match.start()].count("\n") + 1, match.group(1), match.group(2)))
    return found


#: Single edits of the real doc that the check must catch (its self-test).
MUTATIONS = [
    ("requireServiceAccount: true", "requireServiceAcount: true"),
    ('"credHelpers"', '"credHelper"'),
    ("cacheType: ServiceAccount\n", "cacheType: Pod\n"),
    ('args: ["kubelet-credential-provider"]', 'args: ["kubelet-provider"]'),
    ("- eks.amazonaws.com/role-arn", "- eks.amazonaws.com/role"),
    ("--json plan", "--yaml plan"),
    ('- "*.dkr-ecr.*.on.aws"\n', ""),
    ('"*.azurecr.us"', '"*.azurecr.us.*"'),
    ("name: CLOUDAUTH_WASM", "name: CLOUDAUTH_COMPONENT"),
    ("serviceAccountTokenAudience: sts.amazonaws.com", "serviceAccountTokenAudience: sts.amazonaws.com.cn"),
    ("defaultCacheDuration: \"10m\"", "defaultCacheDuration: \"10 minutes\""),
    ("global_auth_file =", "global_auth_path ="),
    ("credential-helper list", "credential-helper lists"),
]


def self_test(doc: Path) -> int:
    """Each mutation of the doc must fail the check."""
    text = doc.read_text()
    if check(doc.name, text):
        print("FAILED: self-test: the doc itself does not pass", file=sys.stderr)
        return 1
    missed = []
    for old, new in MUTATIONS:
        if old not in text:
            missed.append(f"{old!r} is not in the doc any more")
        elif not check(doc.name, text.replace(old, new, 1)):
            missed.append(f"replacing {old!r} with {new!r} passed")
    for m in missed:
        print(f"FAILED: self-test: {m}", file=sys.stderr)
    print(f"self-test: {len(MUTATIONS) - len(missed)} of {len(MUTATIONS)} broken docs caught")
    return 1 if missed else 0


def main() -> int:
    if not HOST.is_file():
        sys.exit(f"{HOST} is missing: cargo build --release -p cloudauth-host")
    if sys.argv[1:2] == ["--self-test"]:
        return self_test(Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs/hosts.md")
    doc = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/hosts.md"
    found = check(doc.name, doc.read_text())
    for kind, n in sorted(checked.items()):
        print(f"checked {n} x {kind}")
    for note in sorted(notes):
        print(note)
    for failure in found:
        print(f"FAILED: {failure}", file=sys.stderr)
    print(f"{doc.name}: {sum(checked.values())} blocks and commands checked, {len(found)} failures")
    return 1 if found else 0


def check(name: str, markdown: str) -> list[str]:
    """The failures of one doc's text."""
    failures.clear()
    checked.clear()
    parsers: dict[str, Callable[[str], Any]] = {"json": json.loads, "yaml": yaml.safe_load, "toml": tomllib.loads}
    for line, language, text in blocks(markdown):
        where = f"{name}:{line} ({language or 'text'})"
        if language == "sh":
            check_sh(where, text)
            continue
        if language == "":
            continue  # output shown as text, not a configuration
        if language not in parsers:
            fail(where, f"a block in {language!r}, which this check does not know")
            continue
        try:
            config = parsers[language](text)
        except Exception as e:  # noqa: BLE001: every parser's error is a failure
            fail(where, f"does not parse: {e}")
            continue
        if language == "yaml" and isinstance(config, dict) and config.get("kind") == "CredentialProviderConfig":
            check_kubelet(where, config)
        elif language == "json" and isinstance(config, dict):
            check_docker_config(where, config)
        elif language == "toml":
            check_toml(where, config)
        else:
            fail(where, "a block of no known kind")
    for clouds in ("azure", "aws", "gcp"):
        for mode in ("node identity", "service-account tokens"):
            if not checked.get(f"{clouds} {mode}"):
                fail(name, f"no complete {clouds} example with {mode}")
    return list(failures)


if __name__ == "__main__":
    sys.exit(main())
