"""CloudFormation models for AWS::RolesAnywhere::TrustAnchor, ::Profile and ::CRL in moto.

moto 5 has no Roles Anywhere. These models make a stack's Roles Anywhere resources real by calling
the control-plane REST API of the iam-ra emulator (the API @aws-sdk/client-rolesanywhere speaks) at
the URL in the IAM_RA_EMULATOR_URL environment variable: create on CreateStack, in-place update or
replacement on UpdateStack (as AWS decides from the resource schema), delete on DeleteStack.

Names follow the real resource types (cfn-lint's bundled schemas):
  TrustAnchor  Ref -> TrustAnchorId; GetAtt TrustAnchorArn, TrustAnchorId
  Profile      Ref -> ProfileId;     GetAtt ProfileArn, ProfileId
  CRL          Ref -> CrlId;         GetAtt CrlId

The module name must be dotted: moto's model metaclass files every model under
``__module__.split(".")[1]`` ("rolesanywhere" here), and moto finds models with
``CloudFormationModel.__subclasses__()`` (direct subclasses only), so each model below subclasses
CloudFormationModel itself and shares code through a plain mixin (resource.py). The emulator client
is control_plane.py; the fixes of moto's stacks are stacks.py.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from typing import Any

from moto.core.common_models import CloudFormationModel

from .control_plane import ResourceFailure
from .control_plane import call as _call
from .resource import EmulatorResource, _failing, as_bool, as_int, name_property

_PEM_CRL = re.compile(r"-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----")


def _source(source: Any) -> dict[str, Any]:
    if not isinstance(source, dict):
        raise ResourceFailure("Properties validation failed: required key [Source] not found")
    data = source.get("SourceData") or {}
    out: dict[str, Any] = {}
    if "X509CertificateData" in data:
        out["x509CertificateData"] = data["X509CertificateData"]
    if "AcmPcaArn" in data:
        out["acmPcaArn"] = data["AcmPcaArn"]
    return {"sourceType": source.get("SourceType"), "sourceData": out}


def _notification_settings(settings: Any) -> list[dict[str, Any]] | None:
    if settings is None:
        return None
    out = []
    for setting in settings:
        item: dict[str, Any] = {"enabled": as_bool(setting.get("Enabled")), "event": setting.get("Event")}
        if "Threshold" in setting:
            item["threshold"] = as_int(setting["Threshold"])
        if "Channel" in setting:
            item["channel"] = setting["Channel"]
        out.append(item)
    return out


class TrustAnchor(EmulatorResource, CloudFormationModel):
    """AWS::RolesAnywhere::TrustAnchor. Every property updates in place (the schema has no
    createOnlyProperties): Name and Source with UpdateTrustAnchor, Enabled with Enable/Disable,
    Tags with TagResource/UntagResource. NotificationSettings are passed to CreateTrustAnchor; the
    emulator has no Put/ResetNotificationSettings, so changing them later is not reflected."""

    _CREATE_PATH = "/trustanchors"
    _PATH = "/trustanchor"
    _DETAIL = "trustAnchor"
    _ID = "trustAnchorId"
    _ARN = "trustAnchorArn"
    _ATTRIBUTES = {"TrustAnchorArn": "trustAnchorArn", "TrustAnchorId": "trustAnchorId"}

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RolesAnywhere::TrustAnchor"

    @classmethod
    def _create_body(cls, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name_property(properties, resource_name),
            "source": _source(properties.get("Source")),
        }
        if "Enabled" in properties:
            body["enabled"] = as_bool(properties["Enabled"])
        settings = _notification_settings(properties.get("NotificationSettings"))
        if settings is not None:
            body["notificationSettings"] = settings
        return body

    def _patch(self, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        patch: dict[str, Any] = {}
        name = name_property(properties, resource_name, self.detail.get("name"))
        if name != self.detail.get("name"):
            patch["name"] = name
        source = _source(properties.get("Source"))
        if source != self.detail.get("source"):
            patch["source"] = source
        return patch


def _profile_fields(properties: dict[str, Any]) -> dict[str, Any]:
    """The UpdateProfile fields a template sets; absent ones take the API's defaults."""
    fields: dict[str, Any] = {
        "roleArns": list(properties.get("RoleArns") or []),
        "durationSeconds": as_int(properties["DurationSeconds"]) if "DurationSeconds" in properties else 3600,
        "managedPolicyArns": list(properties.get("ManagedPolicyArns") or []),
        "acceptRoleSessionName": as_bool(properties.get("AcceptRoleSessionName")),
    }
    policy = properties.get("SessionPolicy")
    if policy is not None:
        fields["sessionPolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
    return fields


# AWS's rules for a new profile, restored when a template stops mapping a field.
_DEFAULT_MAPPINGS: dict[str, list[str]] = {
    "x509Subject": ["*"],
    "x509Issuer": ["*"],
    "x509SAN": ["DNS", "URI", "Name"],
}


def _mappings(properties: dict[str, Any]) -> dict[str, list[str]]:
    """AttributeMappings as {field: [specifier, ...]}; a malformed entry fails the resource, as on AWS."""
    out: dict[str, list[str]] = {}
    for entry in properties.get("AttributeMappings") or []:
        field = entry.get("CertificateField") if isinstance(entry, dict) else None
        rules = entry.get("MappingRules") if isinstance(entry, dict) else None
        if field not in _DEFAULT_MAPPINGS or not isinstance(rules, list) or not rules:
            raise ResourceFailure(
                "Properties validation failed: each AttributeMappings entry needs a CertificateField "
                "(x509Subject, x509Issuer or x509SAN) and MappingRules"
            )
        out[field] = [str(r.get("Specifier")) for r in rules if isinstance(r, dict)]
    return out


class Profile(EmulatorResource, CloudFormationModel):
    """AWS::RolesAnywhere::Profile. RequireInstanceProperties is create-only: changing it replaces
    the profile (new ProfileId and ProfileArn). The rest updates in place with UpdateProfile,
    Enable/DisableProfile and TagResource/UntagResource. AttributeMappings are put field by field
    (PutAttributeMapping) after the profile exists; a field dropped from the template gets AWS's
    default rules back."""

    _CREATE_PATH = "/profiles"
    _PATH = "/profile"
    _DETAIL = "profile"
    _ID = "profileId"
    _ARN = "profileArn"
    _ATTRIBUTES = {"ProfileArn": "profileArn", "ProfileId": "profileId"}

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RolesAnywhere::Profile"

    @classmethod
    def _create_body(cls, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name_property(properties, resource_name),
            **_profile_fields(properties),
            "requireInstanceProperties": as_bool(properties.get("RequireInstanceProperties")),
        }
        if "Enabled" in properties:
            body["enabled"] = as_bool(properties["Enabled"])
        return body

    def _needs_replacement(self, properties: dict[str, Any]) -> bool:
        return as_bool(properties.get("RequireInstanceProperties")) != as_bool(
            self.properties.get("RequireInstanceProperties")
        )

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        profile = super().create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        with _failing(profile.logical_id, cls.cloudformation_type()):
            profile._sync_mappings(cloudformation_json.get("Properties") or {}, {})
        return profile

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        before = dict(original_resource.properties)
        profile = super().update_from_cloudformation_json(
            original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        if profile is original_resource:  # a replacement was created with its mappings already
            with _failing(profile.logical_id, cls.cloudformation_type()):
                profile._sync_mappings(cloudformation_json.get("Properties") or {}, before)
        return profile

    def _sync_mappings(self, properties: dict[str, Any], previous: dict[str, Any]) -> None:
        wanted = _mappings(properties)
        had = _mappings(previous)
        for field, rules in wanted.items():
            if had.get(field) != rules:
                self._mapping_call(field, rules)
        for field in had:
            if field not in wanted:
                self._mapping_call(field, _DEFAULT_MAPPINGS[field])

    def _mapping_call(self, field: str, rules: list[str]) -> None:
        resource_id = urllib.parse.quote(self.physical_resource_id, safe="")
        answer = _call(
            "PUT",
            f"/profiles/{resource_id}/mappings",
            self.region_name,
            {"certificateField": field, "mappingRules": [{"specifier": r} for r in rules]},
        )
        self.detail = answer["profile"]

    def _patch(self, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        patch = {k: v for k, v in _profile_fields(properties).items() if v != self.detail.get(k)}
        name = name_property(properties, resource_name, self.detail.get("name"))
        if name != self.detail.get("name"):
            patch["name"] = name
        return patch


def _crl_data(value: Any) -> str:
    """CrlData, as AWS's resource handler takes it: the PEM text (passed to ImportCrl as its bytes).
    Returns the base64 of the DER CRL for the emulator's API; anything but PEM fails, as on AWS."""
    pem = _PEM_CRL.search(str(value))
    if pem is None:
        raise ResourceFailure(
            "Properties validation failed: CrlData must be a PEM X.509 CRL (-----BEGIN X509 CRL-----)"
        )
    return base64.b64encode(base64.b64decode("".join(pem.group(1).split()))).decode("ascii")


class CRL(EmulatorResource, CloudFormationModel):
    """AWS::RolesAnywhere::CRL. Name and CrlData update in place (UpdateCrl), Enabled with
    Enable/DisableCrl, Tags with TagResource/UntagResource. The API cannot move a CRL to another
    trust anchor, so a changed TrustAnchorArn replaces it (new CrlId)."""

    _CREATE_PATH = "/crls"
    _PATH = "/crl"
    _DETAIL = "crl"
    _ID = "crlId"
    _ARN = "crlArn"
    _ATTRIBUTES = {"CrlId": "crlId"}

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RolesAnywhere::CRL"

    @classmethod
    def _create_body(cls, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name_property(properties, resource_name),
            "crlData": _crl_data(properties.get("CrlData", "")),
        }
        if properties.get("TrustAnchorArn") is not None:
            body["trustAnchorArn"] = properties["TrustAnchorArn"]
        if "Enabled" in properties:
            body["enabled"] = as_bool(properties["Enabled"])
        return body

    def _needs_replacement(self, properties: dict[str, Any]) -> bool:
        return properties.get("TrustAnchorArn") != self.detail.get("trustAnchorArn")

    def _patch(self, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        patch: dict[str, Any] = {}
        name = name_property(properties, resource_name, self.detail.get("name"))
        if name != self.detail.get("name"):
            patch["name"] = name
        data = _crl_data(properties.get("CrlData", ""))
        if data != self.detail.get("crlData"):
            patch["crlData"] = data
        return patch

