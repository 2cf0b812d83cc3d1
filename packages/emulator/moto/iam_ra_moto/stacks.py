"""Fixes of moto's CloudFormation that make stacks behave as in AWS: rollback when a Roles Anywhere
resource fails, parameters falling back to their Default, and ExecuteChangeSet outputs."""

from __future__ import annotations

from typing import Any

from .control_plane import ResourceFailure

def _forget_resources(stack: Any, drop_exports: bool = True) -> None:
    """moto's resource map creates a resource on any lookup of one it does not hold: once a stack's
    resources are gone (rolled back or deleted), DescribeStacks (outputs) or DescribeStackResources
    would create them again. Empty the stack's resource and output maps, and drop its exports
    (unless DeleteStack, which drops them itself afterwards and fails on one already gone)."""
    from moto.cloudformation.models import cloudformation_backends
    from moto.cloudformation.parsing import OutputMap

    stack.resource_map._resource_json_map = {}
    stack.output_map = OutputMap(stack.resource_map, {}, stack.stack_id)
    if not drop_exports:
        return
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
        _forget_resources(self, drop_exports=False)

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
