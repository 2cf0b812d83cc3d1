"""Fixes of moto's AWS::IAM::Role that make stack updates behave as in AWS."""

import json
from typing import Any


def install_role_trust_policy_update() -> None:
    """Makes a stack update apply a role's new AssumeRolePolicyDocument, as AWS does.

    moto's Role.update_from_cloudformation_json updates only the description and keeps the trust
    policy the role was created with, so a role whose trust policy changes (iam-ra's issuer binding
    for Kubernetes namespaces) would go on admitting the old principals in tests.
    """
    from moto.iam.models import Role, iam_backends
    from moto.utilities.utils import get_partition

    if getattr(Role, "_iam_ra_trust_policy_update", False):
        return
    update = Role.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def update_with_trust_policy(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        role = update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        document = cloudformation_json.get("Properties", {}).get("AssumeRolePolicyDocument")
        if document is not None:
            if not isinstance(document, str):
                document = json.dumps(document)
            backend = iam_backends[account_id][get_partition(region_name)]
            backend.update_assume_role_policy(role.name, document)
        return role

    Role.update_from_cloudformation_json = classmethod(update_with_trust_policy)  # type: ignore[method-assign,assignment]
    Role._iam_ra_trust_policy_update = True  # type: ignore[attr-defined]
