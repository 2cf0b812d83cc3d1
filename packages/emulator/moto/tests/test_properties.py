"""The pure parts of the Roles Anywhere models: reading template properties into API bodies."""

import base64
import unittest

from iam_ra_moto.control_plane import EmulatorError, ResourceFailure
from iam_ra_moto.resource import as_bool, as_int, name_property
from iam_ra_moto.rolesanywhere import _crl_data, _notification_settings, _profile_fields, _source


class ScalarsTest(unittest.TestCase):
    def test_as_bool(self) -> None:
        self.assertTrue(as_bool("TRUE"))
        self.assertFalse(as_bool("false"))
        self.assertTrue(as_bool(True))
        self.assertFalse(as_bool(None))
        self.assertTrue(as_bool(None, default=True))
        with self.assertRaisesRegex(ResourceFailure, "'yes' is not a boolean"):
            as_bool("yes")

    def test_as_int(self) -> None:
        self.assertEqual(as_int("900"), 900)
        self.assertEqual(as_int(3600.0), 3600)
        with self.assertRaisesRegex(ResourceFailure, "'1.5' is not an integer"):
            as_int("1.5")
        with self.assertRaisesRegex(ResourceFailure, "'soon' is not a number"):
            as_int("soon")

    def test_name_property(self) -> None:
        self.assertEqual(name_property({"Name": "mine"}, "generated"), "mine")
        self.assertEqual(name_property({}, "generated"), "generated")
        self.assertEqual(name_property({}, "generated", "current"), "current")


class BodiesTest(unittest.TestCase):
    def test_source(self) -> None:
        self.assertEqual(
            _source({"SourceType": "AWS_ACM_PCA", "SourceData": {"AcmPcaArn": "arn:x"}}),
            {"sourceType": "AWS_ACM_PCA", "sourceData": {"acmPcaArn": "arn:x"}},
        )
        with self.assertRaisesRegex(ResourceFailure, r"required key \[Source\] not found"):
            _source(None)

    def test_notification_settings(self) -> None:
        self.assertIsNone(_notification_settings(None))
        self.assertEqual(
            _notification_settings([{"Enabled": "true", "Event": "CA_CERTIFICATE_EXPIRY", "Threshold": "45"}]),
            [{"enabled": True, "event": "CA_CERTIFICATE_EXPIRY", "threshold": 45}],
        )

    def test_profile_fields_defaults(self) -> None:
        self.assertEqual(
            _profile_fields({"RoleArns": ["arn:r"], "SessionPolicy": {"Version": "2012-10-17"}}),
            {
                "roleArns": ["arn:r"],
                "durationSeconds": 3600,
                "managedPolicyArns": [],
                "acceptRoleSessionName": False,
                "sessionPolicy": '{"Version": "2012-10-17"}',
            },
        )

    def test_crl_data_takes_pem_only(self) -> None:
        der = b"\x30\x03\x02\x01\x01"
        pem = "-----BEGIN X509 CRL-----\n" + base64.b64encode(der).decode() + "\n-----END X509 CRL-----\n"
        self.assertEqual(_crl_data("junk before " + pem), base64.b64encode(der).decode())
        with self.assertRaisesRegex(ResourceFailure, "CrlData must be a PEM X.509 CRL"):
            _crl_data(base64.b64encode(der).decode())


class ErrorsTest(unittest.TestCase):
    def test_emulator_error_reads_like_a_cloudformation_reason(self) -> None:
        error = EmulatorError(400, "ValidationException", "Invalid CRL data", "req-1")
        self.assertEqual(
            error.message,
            'Resource handler returned message: "Invalid CRL data" (Service: RolesAnywhere, '
            "Status Code: 400, Request ID: req-1) (ValidationException)",
        )
        self.assertIsInstance(error, ResourceFailure)


if __name__ == "__main__":
    unittest.main()
