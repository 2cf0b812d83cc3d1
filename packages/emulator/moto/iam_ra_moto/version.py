"""The moto versions this plugin supports, and the start-up check of the one installed.

The plugin patches moto internals (CloudFormation stacks, the ACM PCA and S3 backends), which move
between moto releases, so the launcher refuses a moto outside SUPPORTED unless the environment sets
ANY_VERSION_ENV. requirements.txt pins the version the tests run against. Standard library only,
and no moto import here: the check must run before anything touches moto's internals.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple

ANY_VERSION_ENV = "IAM_RA_MOTO_ANY_VERSION"
REQUIREMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "requirements.txt")

# Inclusive lower bound and exclusive upper bound: the 5.2 series from the pinned release on.
SUPPORTED_MIN = (5, 2, 1)
SUPPORTED_BELOW = (5, 3, 0)
SUPPORTED = ">=5.2.1,<5.3"

_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?")
_PIN = re.compile(r"^\s*moto(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)", re.MULTILINE)


class VersionCheck(NamedTuple):
    """The outcome: ``ok`` says whether to start; ``message`` (if any) goes to stderr."""

    ok: bool
    message: str | None


def parse_version(text: str) -> tuple[int, int, int] | None:
    """The release numbers of a version string ("5.2.1", "5.2.1.dev3" -> (5, 2, 1)); None if unreadable."""
    match = _VERSION.match(text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def is_supported(version: str) -> bool:
    parsed = parse_version(version)
    return parsed is not None and SUPPORTED_MIN <= parsed < SUPPORTED_BELOW


def read_pinned_version(requirements: str) -> str | None:
    """The version requirements.txt pins moto to (``moto[server]==X``), or None."""
    match = _PIN.search(requirements)
    return match.group(1) if match else None


def check_moto_version(
    installed: str, env: Mapping[str, str], requirements_path: str = REQUIREMENTS
) -> VersionCheck:
    """Whether the launcher may start with moto ``installed``; explains a mismatch and its fix."""
    if is_supported(installed):
        return VersionCheck(True, None)
    try:
        with open(requirements_path, encoding="utf-8") as file:
            pinned = read_pinned_version(file.read())
    except OSError:
        pinned = None
    tested = f" (tested with {pinned})" if pinned else ""
    problem = (
        f"iam-ra moto plugin: moto {installed} is installed, but this plugin supports moto {SUPPORTED}{tested}."
    )
    if env.get(ANY_VERSION_ENV, "") not in ("", "0", "false"):
        return VersionCheck(True, f"{problem} Going on anyway because {ANY_VERSION_ENV} is set.")
    return VersionCheck(
        False,
        f"{problem}\n"
        f"Install the supported version: pip install -r {requirements_path}\n"
        f"(or set {ANY_VERSION_ENV}=1 to run with moto {installed} anyway, at your own risk).",
    )
