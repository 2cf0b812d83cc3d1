"""The control-plane API of the iam-ra emulator, as the Roles Anywhere models call it.

Standard library only: the emulator speaks the REST API @aws-sdk/client-rolesanywhere speaks.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from moto.cloudformation.exceptions import ValidationError

EMULATOR_URL_ENV = "IAM_RA_EMULATOR_URL"

# Loopback calls must not go through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


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


def call(method: str, path: str, region: str, body: Any = None) -> dict[str, Any]:
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
            # CloudFormation sets the aws:cloudformation:* system tags, which the emulator refuses from
            # anyone but an AWS service.
            "x-iam-ra-emulator-service": "cloudformation.amazonaws.com",
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

