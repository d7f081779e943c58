"""The `policy` interface from Python: explain, evaluate, rules in a session."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cloudauth import CloudauthError
from policy_example import RULES, pull_request

ADMIN = "arn:aws:iam::999999999999:role/admin"
OWN = "arn:aws:iam::123456789012:role/team-a-puller"


def test_explain_names_identity_and_hosts(ca):
    e = ca.policy.explain(pull_request(OWN))
    assert e["provider"] == "aws" and e["region"] == "us-east-1" and e["cloud"] == "aws"
    assert (e["identity_mode"].tag, e["identity_mode"].payload) == ("service-account", ("team-a", "puller"))
    assert {"kind": "aws-role", "id": OWN} in e["principals"]
    assert [h["host"] for h in e["hosts"]] == ["sts.us-east-1.amazonaws.com", "api.ecr.us-east-1.amazonaws.com"]
    assert e["audiences"] == ["sts.amazonaws.com"]
    with ca.start_session(pull_request(OWN)) as s:
        assert s.cache_key() == e["cache_key"]


def test_explain_fails_like_start(ca):
    bad = pull_request("arn:aws:iam::1:role/x")
    with pytest.raises(CloudauthError) as explained:
        ca.policy.explain(bad)
    with pytest.raises(CloudauthError) as started:
        ca.start_session(bad)
    assert (explained.value.kind, explained.value.message) == (started.value.kind, started.value.message)


def test_evaluate_allows_and_denies_with_reasons(ca):
    assert ca.policy.evaluate(pull_request(OWN), json.dumps(RULES))["allowed"]
    d = ca.policy.evaluate(pull_request(ADMIN), json.dumps(RULES))
    assert not d["allowed"]
    assert f"principal {ADMIN} matches nothing in namespaces.team-a.principals" in d["denied_by"]
    with pytest.raises(CloudauthError) as bad:
        ca.policy.evaluate(pull_request(OWN), '{"version":1,"allow":{"hosts":["a*.example.com"]}}')
    assert bad.value.kind == "invalid-input" and bad.value.message.startswith("rules: $.allow.hosts[0]: ")


def test_rules_in_the_session_request(ca):
    request = pull_request(ADMIN)
    request["options"]["rules"] = json.dumps(RULES)
    with pytest.raises(CloudauthError) as denied:
        ca.start_session(request)
    assert denied.value.message.startswith("denied by the rules: ")
    # Within the rules the session runs as usual (here to its first step).
    request = pull_request(OWN)
    request["options"]["rules"] = json.dumps(RULES)
    with ca.start_session(request) as s:
        assert s.next().tag == "fetch-identity-token"


def test_example_runs():
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("policy_example.py"))], capture_output=True, text=True, check=True
    ).stdout
    assert f"{OWN}: allow" in out and f"{ADMIN}: deny" in out


def test_the_schema_in_docs_agrees_with_the_component(ca):
    """docs/policy.schema.json accepts exactly the documents of the
    evaluate cases that the component reads (the string-only cases hold
    duplicate keys or deep nesting, which JSON Schema cannot see)."""
    import jsonschema

    root = Path(__file__).resolve().parents[2]
    schema = json.loads((root / "docs" / "policy.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    cases = json.loads((root / "tests" / "cases" / "policy.evaluate.json").read_text())["cases"]
    checked = 0
    for case in cases:
        rules = case["input"]["rules"]
        if isinstance(rules, str):
            try:
                rules = json.loads(rules)
            except (json.JSONDecodeError, RecursionError):
                continue
            if "duplicate" in case["id"]:
                continue
        component_reads = "error" not in case["expect"]
        schema_accepts = validator.is_valid(rules)
        assert schema_accepts == component_reads, case["id"]
        checked += 1
    assert checked >= 20
    example = (root / "docs" / "policy.md").read_text().split("```json\n", 1)[1].split("```", 1)[0]
    validator.validate(json.loads(example))
