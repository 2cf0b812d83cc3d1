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
CloudFormationModel itself and shares code through a plain mixin. Standard library only.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from moto.cloudformation.exceptions import (
    UnformattedGetAttTemplateException,
    ValidationError,
)
from moto.core.common_models import CloudFormationModel

EMULATOR_URL_ENV = "IAM_RA_EMULATOR_URL"

# Loopback calls must not go through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_PEM_CRL = re.compile(r"-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----")


class ResourceFailure(ValidationError):
    """A Roles Anywhere resource could not be created, updated or deleted.

    With :func:`install_stack_rollback` (the launcher installs it), CreateStack and UpdateStack
    succeed and the stack rolls back as in AWS, the reason recorded in its events; without it, moto
    answers the stack operation with a 400 ValidationError carrying the same message."""

    def __init__(self, message: str) -> None:
        self.logical_id = ""
        self.resource_type = ""
        super().__init__(message=message)


class EmulatorError(ResourceFailure):
    """A control-plane call failed; the message reads like CloudFormation's resource status reason."""

    def __init__(self, status: int, error_type: str, message: str, request_id: str = "") -> None:
        self.status = status
        self.error_type = error_type
        super().__init__(
            f'Resource handler returned message: "{message}" (Service: RolesAnywhere, '
            f"Status Code: {status}, Request ID: {request_id}) ({error_type})"
        )


def _call(method: str, path: str, region: str, body: Any = None) -> dict[str, Any]:
    base = os.environ.get(EMULATOR_URL_ENV, "").rstrip("/")
    if not base:
        raise ValidationError(
            message=f"{EMULATOR_URL_ENV} is not set: this moto has no Roles Anywhere endpoint to call."
        )
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={
            "content-type": "application/json",
            # The emulator wants a SigV4-shaped header; it does not check IAM permissions.
            "authorization": (
                f"AWS4-HMAC-SHA256 Credential=moto/20240101/{region}/rolesanywhere/aws4_request, "
                "SignedHeaders=host, Signature=00"
            ),
        },
    )
    try:
        with _OPENER.open(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", "replace")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        message = answer.get("message", text) if isinstance(answer, dict) else text
        raise EmulatorError(
            error.code,
            error.headers.get("x-amzn-errortype", "") or "",
            message,
            error.headers.get("x-amzn-requestid", "") or "",
        ) from None
    except (urllib.error.URLError, OSError) as error:
        raise EmulatorError(
            503, "ServiceUnavailable", f"cannot reach the Roles Anywhere emulator at {base}: {error}"
        ) from None


def _bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ResourceFailure(f"Properties validation failed: {value!r} is not a boolean")
    return bool(value)


def _int(value: Any) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ResourceFailure(f"Properties validation failed: {value!r} is not a number") from None
    if number != int(number):
        raise ResourceFailure(f"Properties validation failed: {value!r} is not an integer")
    return int(number)


def _stack_name(stack_id: str) -> str:
    # arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID
    parts = stack_id.split(":")[-1].split("/")
    return parts[1] if len(parts) > 1 else stack_id


def _stack_tags(stack_id: str, account_id: str, region_name: str) -> dict[str, str]:
    try:
        from moto.cloudformation.models import cloudformation_backends

        stack = cloudformation_backends[account_id][region_name].stacks.get(stack_id)
        return dict(getattr(stack, "tags", None) or {})
    except Exception:  # noqa: BLE001 - stack tags are a nicety; never fail a resource over them
        return {}


def _desired_tags(
    props: dict[str, Any], stack_id: str, logical_id: str, account_id: str, region_name: str
) -> dict[str, str]:
    """Stack tags, then the template's Tags, then the aws:cloudformation:* system tags, as AWS applies them."""
    tags = _stack_tags(stack_id, account_id, region_name)
    for tag in props.get("Tags") or []:
        if not isinstance(tag, dict) or "Key" not in tag or "Value" not in tag:
            raise ResourceFailure(f"Properties validation failed: tag {tag!r} needs a Key and a Value")
        tags[str(tag["Key"])] = str(tag["Value"])
    if stack_id:
        tags["aws:cloudformation:stack-name"] = _stack_name(stack_id)
        tags["aws:cloudformation:stack-id"] = stack_id
        tags["aws:cloudformation:logical-id"] = logical_id
    return tags


def _api_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


@contextlib.contextmanager
def _failing(logical_id: str, resource_type: str) -> Iterator[None]:
    """Names the resource in a ResourceFailure raised inside (for the stack's CREATE_FAILED event)."""
    try:
        yield
    except ResourceFailure as error:
        if not error.logical_id:
            error.logical_id, error.resource_type = logical_id, resource_type
        raise


def _name(properties: dict[str, Any], generated: str, current: str | None = None) -> str:
    """The Name property; without it, the generated name on create and the current name afterwards."""
    if properties.get("Name") is not None:
        return str(properties["Name"])
    return current if current is not None else generated


class _EmulatorResource:
    """What the three models share: create, in-place update or replacement, enable/disable, tags and
    delete through the emulator. Each model supplies its create body, its patch and its
    replacement rule."""

    # Set by each model.
    _CREATE_PATH = ""  # "/trustanchors", "/profiles", "/crls"
    _PATH = ""  # "/trustanchor", "/profile", "/crl"
    _DETAIL = ""  # the answer's member: "trustAnchor", "profile", "crl"
    _ID = ""  # "trustAnchorId", ...
    _ARN = ""  # "trustAnchorArn", ...
    _ATTRIBUTES: dict[str, str] = {}  # GetAtt name -> detail member

    def __init__(
        self,
        detail: dict[str, Any],
        properties: dict[str, Any],
        tags: dict[str, str],
        account_id: str,
        region_name: str,
        stack_id: str,
        logical_id: str,
    ) -> None:
        self.detail = detail
        self.properties = properties
        self.tags = tags
        self.account_id = account_id
        self.region_name = region_name
        self.stack_id = stack_id
        self.logical_id = logical_id

    # -- what each model defines -------------------------------------------------------------

    @classmethod
    def _create_body(cls, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        raise NotImplementedError

    def _needs_replacement(self, properties: dict[str, Any]) -> bool:
        return False

    def _patch(self, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        """The Update<Type> body that brings the resource to `properties` (empty: nothing to do)."""
        raise NotImplementedError

    # -- moto's CloudFormationModel interface ------------------------------------------------

    @property
    def physical_resource_id(self) -> str:
        return str(self.detail[self._ID])

    @property
    def arn(self) -> str:
        return str(self.detail[self._ARN])

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls._ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        member = self._ATTRIBUTES.get(attribute_name)
        if member is None:
            raise UnformattedGetAttTemplateException()
        return self.detail[member]

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        props = cloudformation_json.get("Properties") or {}
        stack_id, logical_id = kwargs.get("StackId", ""), kwargs.get("LogicalId", "")
        with _failing(logical_id, cls.cloudformation_type()):  # type: ignore[attr-defined]
            tags = _desired_tags(props, stack_id, logical_id, account_id, region_name)
            body = {**cls._create_body(props, resource_name), "tags": _api_tags(tags)}
            detail = _call("POST", cls._CREATE_PATH, region_name, body)[cls._DETAIL]
        return cls(detail, props, tags, account_id, region_name, stack_id, logical_id)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        resource = original_resource
        props = cloudformation_json.get("Properties") or {}
        with _failing(resource.logical_id, cls.cloudformation_type()):  # type: ignore[attr-defined]
            if resource._needs_replacement(props):
                # As AWS: create the replacement, then delete the old resource (AWS does that in
                # the UPDATE_COMPLETE_CLEANUP_IN_PROGRESS phase; moto has none, so right away).
                replacement = cls.create_from_cloudformation_json(
                    new_resource_name,
                    cloudformation_json,
                    account_id,
                    region_name,
                    StackId=resource.stack_id,
                    LogicalId=resource.logical_id,
                )
                resource.delete(account_id, region_name)
                return replacement
            patch = resource._patch(props, new_resource_name)
            if patch:
                resource.detail = resource._call("PATCH", "", patch)[cls._DETAIL]
            # An absent Enabled leaves the resource as it is (it never reverts to a default).
            if "Enabled" in props:
                wanted = _bool(props["Enabled"])
                if wanted != bool(resource.detail.get("enabled")):
                    answer = resource._call("POST", "/enable" if wanted else "/disable")
                    resource.detail = answer[cls._DETAIL]
            resource._sync_tags(
                _desired_tags(props, resource.stack_id, resource.logical_id, account_id, region_name)
            )
            resource.properties = props
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        """Called by moto for DeleteStack, for resources removed from a template and on rollback."""
        with _failing(self.logical_id, self.cloudformation_type()):  # type: ignore[attr-defined]
            try:
                self._call("DELETE")
            except EmulatorError as error:
                if error.status != 404:  # already gone: deleting succeeds, as in CloudFormation
                    raise

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        # moto's fallback when it cannot call instance.delete; resource_name is the physical id.
        try:
            _call("DELETE", f"{cls._PATH}/{urllib.parse.quote(resource_name, safe='')}", region_name)
        except EmulatorError as error:
            if error.status != 404:
                raise

    # -- helpers -------------------------------------------------------------------------------

    def _call(self, method: str, suffix: str = "", body: Any = None) -> dict[str, Any]:
        resource_id = urllib.parse.quote(self.physical_resource_id, safe="")
        return _call(method, f"{self._PATH}/{resource_id}{suffix}", self.region_name, body)

    def _sync_tags(self, wanted: dict[str, str]) -> None:
        removed = [key for key in self.tags if key not in wanted]
        changed = {k: v for k, v in wanted.items() if self.tags.get(k) != v}
        if removed:
            _call("POST", "/UntagResource", self.region_name, {"resourceArn": self.arn, "tagKeys": removed})
        if changed:
            _call(
                "POST",
                "/TagResource",
                self.region_name,
                {"resourceArn": self.arn, "tags": _api_tags(changed)},
            )
        self.tags = wanted


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
        item: dict[str, Any] = {"enabled": _bool(setting.get("Enabled")), "event": setting.get("Event")}
        if "Threshold" in setting:
            item["threshold"] = _int(setting["Threshold"])
        if "Channel" in setting:
            item["channel"] = setting["Channel"]
        out.append(item)
    return out


class TrustAnchor(_EmulatorResource, CloudFormationModel):
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
            "name": _name(properties, resource_name),
            "source": _source(properties.get("Source")),
        }
        if "Enabled" in properties:
            body["enabled"] = _bool(properties["Enabled"])
        settings = _notification_settings(properties.get("NotificationSettings"))
        if settings is not None:
            body["notificationSettings"] = settings
        return body

    def _patch(self, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        patch: dict[str, Any] = {}
        name = _name(properties, resource_name, self.detail.get("name"))
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
        "durationSeconds": _int(properties["DurationSeconds"]) if "DurationSeconds" in properties else 3600,
        "managedPolicyArns": list(properties.get("ManagedPolicyArns") or []),
        "acceptRoleSessionName": _bool(properties.get("AcceptRoleSessionName")),
    }
    policy = properties.get("SessionPolicy")
    if policy is not None:
        fields["sessionPolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
    return fields


class Profile(_EmulatorResource, CloudFormationModel):
    """AWS::RolesAnywhere::Profile. RequireInstanceProperties is create-only: changing it replaces
    the profile (new ProfileId and ProfileArn). The rest updates in place with UpdateProfile,
    Enable/DisableProfile and TagResource/UntagResource. AttributeMappings are not sent (the
    emulator does not implement them)."""

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
            "name": _name(properties, resource_name),
            **_profile_fields(properties),
            "requireInstanceProperties": _bool(properties.get("RequireInstanceProperties")),
        }
        if "Enabled" in properties:
            body["enabled"] = _bool(properties["Enabled"])
        return body

    def _needs_replacement(self, properties: dict[str, Any]) -> bool:
        return _bool(properties.get("RequireInstanceProperties")) != _bool(
            self.properties.get("RequireInstanceProperties")
        )

    def _patch(self, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        patch = {k: v for k, v in _profile_fields(properties).items() if v != self.detail.get(k)}
        name = _name(properties, resource_name, self.detail.get("name"))
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


class CRL(_EmulatorResource, CloudFormationModel):
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
            "name": _name(properties, resource_name),
            "crlData": _crl_data(properties.get("CrlData", "")),
        }
        if properties.get("TrustAnchorArn") is not None:
            body["trustAnchorArn"] = properties["TrustAnchorArn"]
        if "Enabled" in properties:
            body["enabled"] = _bool(properties["Enabled"])
        return body

    def _needs_replacement(self, properties: dict[str, Any]) -> bool:
        return properties.get("TrustAnchorArn") != self.detail.get("trustAnchorArn")

    def _patch(self, properties: dict[str, Any], resource_name: str) -> dict[str, Any]:
        patch: dict[str, Any] = {}
        name = _name(properties, resource_name, self.detail.get("name"))
        if name != self.detail.get("name"):
            patch["name"] = name
        data = _crl_data(properties.get("CrlData", ""))
        if data != self.detail.get("crlData"):
            patch["crlData"] = data
        return patch


def _forget_resources(stack: Any) -> None:
    """moto's resource map creates a resource on any lookup of one it does not hold: once a stack's
    resources are gone (rolled back or deleted), DescribeStacks (outputs) or DescribeStackResources
    would create them again. Empty the stack's resource and output maps, and drop its exports."""
    from moto.cloudformation.models import cloudformation_backends
    from moto.cloudformation.parsing import OutputMap

    stack.resource_map._resource_json_map = {}
    stack.output_map = OutputMap(stack.resource_map, {}, stack.stack_id)
    exports = cloudformation_backends[stack.account_id][stack.region_name].exports
    for name in [n for n, e in exports.items() if e.exporting_stack_id == stack.stack_id]:
        exports.pop(name, None)


def install_stack_rollback() -> None:
    """Makes moto roll a stack back, as AWS does, when one of these resources fails.

    moto creates and updates resources inside the CreateStack/UpdateStack call and has no rollback:
    an exception fails the API call and leaves the stack half made. For a ResourceFailure (an
    emulator refusal, or a property these models cannot read) this records the resource's
    CREATE_FAILED/UPDATE_FAILED event with the emulator's message, undoes the operation (deletes
    what the create made; re-applies the previous template and parameters after an update) and
    ends in ROLLBACK_COMPLETE / UPDATE_ROLLBACK_COMPLETE (…_FAILED if undoing fails too), so
    CreateStack/UpdateStack succeed and waiters see the failure. Other errors are left to moto.
    Change sets (ExecuteChangeSet) are not covered: a failure there fails the API call.

    It also keeps a deleted or rolled-back stack from re-creating its resources when it is
    described (see _forget_resources).
    """
    from moto.cloudformation.models import Event, Stack

    if getattr(Stack, "_iam_ra_rollback", False):
        return
    create_resources = Stack.create_resources
    update = Stack.update
    delete = Stack.delete

    def record(stack: Any, error: ResourceFailure, status: str) -> None:
        stack.events.append(
            Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=error.logical_id,
                physical_resource_id="",
                resource_type=error.resource_type,
                resource_status=status,
                resource_status_reason=error.message,
                resource_properties=None,
            )
        )

    def create_with_rollback(self: Any) -> None:
        try:
            create_resources(self)
        except ResourceFailure as error:
            record(self, error, "CREATE_FAILED")
            self.status = "ROLLBACK_IN_PROGRESS"
            self._add_stack_event(
                "ROLLBACK_IN_PROGRESS",
                resource_status_reason=(
                    f"The following resource(s) failed to create: [{error.logical_id}]. "
                    "Rollback requested by user."
                ),
            )
            try:
                self.resource_map.delete()
            except Exception as cleanup:  # noqa: BLE001 - reported as the stack's state
                self.status = "ROLLBACK_FAILED"
                self._add_stack_event("ROLLBACK_FAILED", resource_status_reason=str(cleanup))
            else:
                self.status = "ROLLBACK_COMPLETE"
                self._add_stack_event("ROLLBACK_COMPLETE")
            _forget_resources(self)

    def update_with_rollback(self: Any, template: str, *args: Any, **kwargs: Any) -> None:
        previous_template, previous_parameters = self.template, dict(self.parameters or {})
        try:
            update(self, template, *args, **kwargs)
        except ResourceFailure as error:
            record(self, error, "UPDATE_FAILED")
            self.status = "UPDATE_ROLLBACK_IN_PROGRESS"
            self._add_stack_event(
                "UPDATE_ROLLBACK_IN_PROGRESS",
                resource_status_reason=f"The following resource(s) failed to update: [{error.logical_id}].",
            )
            self.template = previous_template
            self._parse_template()
            try:
                self.resource_map.update(self.template_dict, previous_parameters)
            except Exception as cleanup:  # noqa: BLE001 - reported as the stack's state
                self.status = "UPDATE_ROLLBACK_FAILED"
                self._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=str(cleanup))
                return
            self.output_map = self._create_output_map()
            self.status = "UPDATE_ROLLBACK_COMPLETE"
            self._add_stack_event("UPDATE_ROLLBACK_COMPLETE")

    def delete_and_forget(self: Any) -> None:
        delete(self)
        _forget_resources(self)

    Stack.create_resources = create_with_rollback  # type: ignore[method-assign]
    Stack.update = update_with_rollback  # type: ignore[method-assign]
    Stack.delete = delete_and_forget  # type: ignore[method-assign]
    Stack._iam_ra_rollback = True  # type: ignore[attr-defined]


def install_parameter_default_diff() -> None:
    """Makes UpdateStack update the resources that use a parameter which falls back to its Default.

    AWS resolves a parameter left out of UpdateStack to its Default. moto does too, but it decides
    which resources to update only from the parameters passed, so a resource using a parameter
    that goes from an explicit value back to its default is silently left as it was.
    """
    from moto.cloudformation.parsing import ResourceMap, get_references_from_template

    if getattr(ResourceMap, "_iam_ra_parameter_diff", False):
        return
    build_resource_diff = ResourceMap.build_resource_diff

    def diff_with_defaults(
        self: Any, other_template: dict[str, Any], parameters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        result = build_resource_diff(self, other_template, parameters)
        if parameters is None:
            return result
        declared = other_template.get("Parameters") or {}
        reverted = [
            name
            for name, value in (self.input_parameters or {}).items()
            if name not in parameters
            and "Default" in (declared.get(name) or {})
            and str(declared[name]["Default"]) != str(value)
        ]
        if reverted:
            old, new = self._resource_json_map, other_template["Resources"]
            for name, resource in new.items():
                if name in old and resource == old[name] and name not in result["Modify"]:
                    if any(p in get_references_from_template(resource) for p in reverted):
                        result["Modify"].append(name)
        return result

    ResourceMap.build_resource_diff = diff_with_defaults  # type: ignore[method-assign]
    ResourceMap._iam_ra_parameter_diff = True  # type: ignore[attr-defined]


def install_change_set_outputs() -> None:
    """Makes a stack made or changed by ExecuteChangeSet (`aws cloudformation deploy`, CDK, SAM)
    show the outputs and parameters of its new template. moto applies the change set to the
    resources but keeps the stack's previous (for a new stack: empty) template, outputs and
    parameters."""
    from moto.cloudformation.models import CloudFormationBackend

    if getattr(CloudFormationBackend, "_iam_ra_change_set_outputs", False):
        return
    execute_change_set = CloudFormationBackend.execute_change_set

    def execute_and_refresh(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        execute_change_set(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name)
        if change_set is None:  # looked up by name, as moto does (the last one of that name)
            for candidate in self.change_sets.values():
                if candidate.change_set_name == change_set_name:
                    change_set = candidate
        stack = self.stacks.get(change_set.stack_id) if change_set is not None else None
        if stack is None:
            return
        stack._parse_template()
        if change_set.parameters:
            stack.parameters = change_set.parameters
        stack.output_map = stack._create_output_map()

    CloudFormationBackend.execute_change_set = execute_and_refresh  # type: ignore[method-assign]
    CloudFormationBackend._iam_ra_change_set_outputs = True  # type: ignore[attr-defined]
