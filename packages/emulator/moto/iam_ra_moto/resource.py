"""What the Roles Anywhere models share: property parsing, tags, and create / update / delete
through the emulator (EmulatorResource, a plain mixin: moto lists only direct subclasses of
CloudFormationModel, so each model subclasses that itself)."""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterator
from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

from .control_plane import EmulatorError, ResourceFailure
from .control_plane import call as _call


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ResourceFailure(f"Properties validation failed: {value!r} is not a boolean")
    return bool(value)


def as_int(value: Any) -> int:
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


def desired_tags(
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


def name_property(properties: dict[str, Any], generated: str, current: str | None = None) -> str:
    """The Name property; without it, the generated name on create and the current name afterwards."""
    if properties.get("Name") is not None:
        return str(properties["Name"])
    return current if current is not None else generated


class EmulatorResource:
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
            tags = desired_tags(props, stack_id, logical_id, account_id, region_name)
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
                wanted = as_bool(props["Enabled"])
                if wanted != bool(resource.detail.get("enabled")):
                    answer = resource._call("POST", "/enable" if wanted else "/disable")
                    resource.detail = answer[cls._DETAIL]
            resource._sync_tags(
                desired_tags(props, resource.stack_id, resource.logical_id, account_id, region_name)
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

