"""The start-up check of the installed moto (iam_ra_moto/version.py)."""

import os
import tempfile
import unittest

from iam_ra_moto.version import (
    ANY_VERSION_ENV,
    REQUIREMENTS,
    SUPPORTED,
    SUPPORTED_BELOW,
    SUPPORTED_MIN,
    check_moto_version,
    is_supported,
    parse_version,
    read_pinned_version,
)


class ParseVersionTest(unittest.TestCase):
    def test_release_numbers(self) -> None:
        self.assertEqual(parse_version("5.2.1"), (5, 2, 1))
        self.assertEqual(parse_version("5.2"), (5, 2, 0))
        self.assertEqual(parse_version("5.2.1.dev3"), (5, 2, 1))
        self.assertEqual(parse_version("5.10.0rc1"), (5, 10, 0))

    def test_unreadable(self) -> None:
        self.assertIsNone(parse_version("unknown"))
        self.assertIsNone(parse_version(""))
        self.assertIsNone(parse_version("v5.2.1"))


class SupportedTest(unittest.TestCase):
    def test_range(self) -> None:
        self.assertTrue(is_supported("5.2.1"))
        self.assertTrue(is_supported("5.2.9"))
        self.assertFalse(is_supported("5.2.0"))
        self.assertFalse(is_supported("5.3.0"))
        self.assertFalse(is_supported("4.2.14"))
        self.assertFalse(is_supported("6.0.0"))
        self.assertFalse(is_supported("unknown"))

    def test_the_text_says_what_the_bounds_do(self) -> None:
        low = ".".join(map(str, SUPPORTED_MIN))
        high = ".".join(map(str, SUPPORTED_BELOW[:2]))
        self.assertEqual(SUPPORTED, f">={low},<{high}")

    def test_requirements_pin_a_supported_version(self) -> None:
        with open(REQUIREMENTS, encoding="utf-8") as file:
            pinned = read_pinned_version(file.read())
        self.assertIsNotNone(pinned)
        self.assertTrue(is_supported(pinned or ""), pinned)


class ReadPinnedVersionTest(unittest.TestCase):
    def test_pins(self) -> None:
        self.assertEqual(read_pinned_version("moto[server]==5.2.1\n"), "5.2.1")
        self.assertEqual(read_pinned_version("# comment\nmoto == 5.2.1  # why\n"), "5.2.1")
        self.assertEqual(read_pinned_version("boto3==1.0\nmoto[server,s3]==5.2.1; python_version>'3'"), "5.2.1")

    def test_no_pin(self) -> None:
        self.assertIsNone(read_pinned_version("moto>=5\n"))
        self.assertIsNone(read_pinned_version("motoko==1.0\n"))
        self.assertIsNone(read_pinned_version(""))


class CheckMotoVersionTest(unittest.TestCase):
    def setUp(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.requirements = os.path.join(directory.name, "requirements.txt")
        with open(self.requirements, "w", encoding="utf-8") as file:
            file.write("moto[server]==5.2.1\n")

    def test_supported_starts_quietly(self) -> None:
        self.assertEqual(check_moto_version("5.2.1", {}, self.requirements), (True, None))

    def test_unsupported_refuses_and_says_how_to_fix(self) -> None:
        ok, message = check_moto_version("4.2.14", {}, self.requirements)
        self.assertFalse(ok)
        self.assertEqual(
            message,
            "iam-ra moto plugin: moto 4.2.14 is installed, but this plugin supports moto "
            f"{SUPPORTED} (tested with 5.2.1).\n"
            f"Install the supported version: pip install -r {self.requirements}\n"
            f"(or set {ANY_VERSION_ENV}=1 to run with moto 4.2.14 anyway, at your own risk).",
        )

    def test_override_starts_with_a_warning(self) -> None:
        for value in ("1", "true", "yes"):
            ok, message = check_moto_version("6.0.0", {ANY_VERSION_ENV: value}, self.requirements)
            self.assertTrue(ok)
            self.assertIn("moto 6.0.0 is installed", message or "")
            self.assertIn(f"Going on anyway because {ANY_VERSION_ENV} is set.", message or "")

    def test_override_off(self) -> None:
        for value in ("", "0", "false"):
            ok, _ = check_moto_version("6.0.0", {ANY_VERSION_ENV: value}, self.requirements)
            self.assertFalse(ok, value)

    def test_missing_requirements_still_explains(self) -> None:
        ok, message = check_moto_version("unknown", {}, self.requirements + ".gone")
        self.assertFalse(ok)
        self.assertIn(f"moto unknown is installed, but this plugin supports moto {SUPPORTED}.\n", message or "")


if __name__ == "__main__":
    unittest.main()
