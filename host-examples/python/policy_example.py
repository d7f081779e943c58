"""Policy from Python: what would this request do, and do the rules allow it?

    python3 policy_example.py        # needs target/cloudauth.wasm (cargo xtask build)

Asks the component, before any token exists, which identity an ECR pull
from namespace ``team-a`` would use and which hosts it would contact, then
whether ``team-a`` may assume ``arn:aws:iam::999999999999:role/admin``.
"""

from __future__ import annotations

import json

from cloudauth import Cloudauth, Variant

RULES = {
    "version": 1,
    "allow": {"providers": ["aws"], "awsAccounts": ["123456789012"]},
    "namespaces": {
        "team-a": {"objectLevelIdentity": True, "principals": ["arn:aws:iam::123456789012:role/team-a-*"]}
    },
}


def pull_request(role_arn: str) -> dict:
    """A session request: an ECR pull with team-a's service account."""
    return {
        "target": Variant("registry", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1"),
        "identity": Variant(
            "service-account",
            {"namespace": "team-a", "name": "puller", "annotations": [("eks.amazonaws.com/role-arn", role_arn)]},
        ),
        "options": {
            "environment": [],
            "azure_environment": None,
            "sts_endpoint": None,
            "object_level_workload_identity": True,
            "registry_username": None,
            "registry_password": None,
            "trusted_realm_hosts": [],
            "skip_cache": True,
        },
        "now": 1705320000,
    }


def main() -> None:
    ca = Cloudauth()
    explanation = ca.policy.explain(pull_request("arn:aws:iam::123456789012:role/team-a-puller"))
    print("principals:", [(p["kind"], p["id"]) for p in explanation["principals"]])
    print("hosts:", [h["host"] for h in explanation["hosts"]])
    for role in ("arn:aws:iam::123456789012:role/team-a-puller", "arn:aws:iam::999999999999:role/admin"):
        decision = ca.policy.evaluate(pull_request(role), json.dumps(RULES))
        verdict = "allow" if decision["allowed"] else "deny"
        print(f"{role}: {verdict}", *decision["denied_by"], sep="\n  ")


if __name__ == "__main__":
    main()
