"""AWS Private CA in moto as iam-ra needs it: CloudFormation models and published CRLs.

moto 5 implements the ACM PCA API but (1) has no CloudFormation models for it, so a stack that
creates a Private CA fails, and (2) never publishes a CRL: RevokeCertificate only records the
serial. This module adds both, on top of moto's own ACM PCA backend:

  AWS::ACMPCA::CertificateAuthority            Ref -> Arn; GetAtt Arn, CertificateSigningRequest
  AWS::ACMPCA::Certificate                     Ref -> Arn; GetAtt Arn, Certificate
  AWS::ACMPCA::CertificateAuthorityActivation  Ref -> CertificateAuthorityArn;
                                               GetAtt CompleteCertificateChain

and, when a CA's RevocationConfiguration has an enabled CrlConfiguration with an S3 bucket,
every RevokeCertificate writes the CA's complete CRL (DER, signed by the CA key) to
``<CustomPath or "crl">/<CA id>.crl`` in that bucket of moto's S3, as AWS Private CA does. AWS
publishes within about 30 minutes; here it is immediate, or after the number of seconds in the
CA's tag ``iam-ra-moto:crl-delay-seconds`` (so tests can see a revocation not yet published).

Classes subclass CloudFormationModel directly (moto lists models with ``__subclasses__()``) and
carry names of their own, so moto's model registry keeps its own ACM PCA classes.
"""

from __future__ import annotations

import base64
import datetime
import threading
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from moto.acmpca.models import ACMPCABackend, acmpca_backends
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

_CRL_NUMBERS: dict[str, int] = {}


def _backend(account_id: str, region_name: str) -> ACMPCABackend:
    return acmpca_backends[account_id][region_name]


def _delete_ca(account_id: str, region_name: str, arn: str) -> None:
    """Deletes a CA, unless it is already gone."""
    backend = _backend(account_id, region_name)
    if arn in backend.certificate_authorities:
        backend.delete_certificate_authority(arn)


def _tags(properties: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t["Value"]} for t in properties.get("Tags") or []]


class _PcaModel:
    """What the three models share: no name property, a physical id, and GetAtt through
    ``_attribute_<Name>`` methods. (Each model still subclasses CloudFormationModel directly.)"""

    account_id: str
    region_name: str

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id()

    def _physical_id(self) -> str:
        raise NotImplementedError

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return hasattr(cls, f"_attribute_{attr}")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        getter = getattr(self, f"_attribute_{attribute_name}", None)
        if getter is None:
            raise UnformattedGetAttTemplateException()
        return getter()

    def _ca(self, arn: str) -> Any:
        return _backend(self.account_id, self.region_name).describe_certificate_authority(arn)


class IamRaPcaAuthority(_PcaModel, CloudFormationModel):
    """AWS::ACMPCA::CertificateAuthority: created PENDING_CERTIFICATE, as in AWS."""

    def __init__(self, arn: str, account_id: str, region_name: str, properties: dict[str, Any]) -> None:
        self.arn = arn
        self.account_id = account_id
        self.region_name = region_name
        self.properties = properties

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ACMPCA::CertificateAuthority"

    def _physical_id(self) -> str:
        return self.arn

    def _attribute_Arn(self) -> str:  # noqa: N802 (GetAtt names)
        return self.arn

    def _attribute_CertificateSigningRequest(self) -> str:  # noqa: N802
        return self._ca(self.arn).csr.decode("utf-8")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> IamRaPcaAuthority:
        props = cloudformation_json.get("Properties") or {}
        subject = {k: v for k, v in (props.get("Subject") or {}).items() if v is not None}
        arn = _backend(account_id, region_name).create_certificate_authority(
            certificate_authority_configuration={
                "KeyAlgorithm": props.get("KeyAlgorithm"),
                "SigningAlgorithm": props.get("SigningAlgorithm"),
                "Subject": subject,
            },
            revocation_configuration=props.get("RevocationConfiguration"),
            certificate_authority_type=props.get("Type", "ROOT"),
            security_standard=props.get("KeyStorageSecurityStandard"),
            tags=_tags(props),
        )
        return cls(arn, account_id, region_name, props)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        props = cloudformation_json.get("Properties") or {}
        old = original_resource.properties
        # RevocationConfiguration and Tags update in place; anything else replaces the CA.
        immutable = ("Type", "KeyAlgorithm", "SigningAlgorithm", "Subject", "KeyStorageSecurityStandard")
        if any(old.get(k) != props.get(k) for k in immutable):
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            original_resource.delete(account_id, region_name)
            return replacement
        if props.get("RevocationConfiguration") != old.get("RevocationConfiguration"):
            _backend(account_id, region_name).update_certificate_authority(
                original_resource.arn,
                revocation_configuration=props.get("RevocationConfiguration")
                or {"CrlConfiguration": {"Enabled": False}},
                status=None,  # type: ignore[arg-type]
            )
        original_resource.properties = props
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        _delete_ca(account_id, region_name, self.arn)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        _delete_ca(account_id, region_name, resource_name)


class IamRaPcaCertificate(_PcaModel, CloudFormationModel):
    """AWS::ACMPCA::Certificate: a certificate the Private CA issues from a CSR (here, its own)."""

    def __init__(self, arn: str, ca_arn: str, account_id: str, region_name: str) -> None:
        self.arn = arn
        self.ca_arn = ca_arn
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ACMPCA::Certificate"

    def _physical_id(self) -> str:
        return self.arn

    def _attribute_Arn(self) -> str:  # noqa: N802
        return self.arn

    def _attribute_Certificate(self) -> str:  # noqa: N802
        return self._ca(self.ca_arn).issued_certificates[self.arn].decode("utf-8")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> IamRaPcaCertificate:
        props = cloudformation_json.get("Properties") or {}
        ca_arn = props["CertificateAuthorityArn"]
        # The API takes the CSR as a blob; moto's backend expects it base64-encoded, as on the wire.
        csr = base64.b64encode(str(props["CertificateSigningRequest"]).encode("utf-8"))
        arn = _backend(account_id, region_name).issue_certificate(ca_arn, csr, props.get("TemplateArn"))
        return cls(arn, ca_arn, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """Deleting the resource leaves the issued certificate be, as in AWS."""


class IamRaPcaActivation(_PcaModel, CloudFormationModel):
    """AWS::ACMPCA::CertificateAuthorityActivation: installs the CA certificate; ACTIVE."""

    def __init__(self, ca_arn: str, account_id: str, region_name: str) -> None:
        self.ca_arn = ca_arn
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ACMPCA::CertificateAuthorityActivation"

    def _physical_id(self) -> str:
        return self.ca_arn

    def _attribute_CompleteCertificateChain(self) -> str:  # noqa: N802
        ca = self._ca(self.ca_arn)
        return (ca.certificate_bytes + (ca.certificate_chain or b"")).decode("utf-8")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> IamRaPcaActivation:
        props = cloudformation_json.get("Properties") or {}
        ca_arn = props["CertificateAuthorityArn"]
        chain = props.get("CertificateChain")
        _backend(account_id, region_name).import_certificate_authority_certificate(
            ca_arn,
            str(props["Certificate"]).encode("utf-8"),
            chain.encode("utf-8") if chain else None,
        )
        if props.get("Status") == "DISABLED":
            _backend(account_id, region_name).update_certificate_authority(
                ca_arn,
                revocation_configuration=None,  # type: ignore[arg-type]
                status="DISABLED",
            )
        return cls(ca_arn, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """As in AWS, deleting the activation disables the CA (unless it is already gone)."""
        backend = _backend(account_id, region_name)
        ca = backend.certificate_authorities.get(self.ca_arn)
        if ca is not None and ca.status == "ACTIVE":
            ca.status = "DISABLED"


def _publish_crl(ca: Any) -> None:
    """Writes the CA's complete CRL to its CRL bucket, if its revocation configuration has one."""
    config = (ca.revocation_configuration or {}).get("CrlConfiguration") or {}
    enabled = config.get("Enabled")
    if not (enabled is True or str(enabled).lower() == "true") or not config.get("S3BucketName"):
        return
    issuer = x509.load_pem_x509_certificate(ca.certificate_bytes)
    key = serialization.load_pem_private_key(ca.private_bytes, password=ca.password)
    now = datetime.datetime.now(datetime.timezone.utc)
    days = int(config.get("ExpirationInDays") or 7)
    number = _CRL_NUMBERS.get(ca.arn, 0) + 1
    _CRL_NUMBERS[ca.arn] = number
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - datetime.timedelta(minutes=1))
        .next_update(now + datetime.timedelta(days=days))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)  # type: ignore[arg-type]
    )
    for serial, info in ca.revoked_certificates.items():
        when = datetime.datetime.fromtimestamp(info["revocation_time"], datetime.timezone.utc)
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(int(serial.replace(":", ""), 16))
            .revocation_date(when)
            .build()
        )
    crl = builder.sign(key, hashes.SHA256())  # type: ignore[arg-type]
    path = (config.get("CustomPath") or "crl").strip("/")
    s3 = s3_backends[ca.account_id][get_partition(ca.region_name)]
    s3.put_object(config["S3BucketName"], f"{path}/{ca.id}.crl", crl.public_bytes(serialization.Encoding.DER))


DELAY_TAG = "iam-ra-moto:crl-delay-seconds"


def install_crl_publication() -> None:
    """Makes RevokeCertificate publish the CA's CRL to S3 (see the module docstring)."""
    original = ACMPCABackend.revoke_certificate

    def revoke_certificate(self: ACMPCABackend, certificate_authority_arn: str, *args: Any, **kwargs: Any) -> None:
        original(self, certificate_authority_arn, *args, **kwargs)
        ca = self.describe_certificate_authority(certificate_authority_arn)
        tags = self.tagger.list_tags_for_resource(certificate_authority_arn).get("Tags", [])
        delay = next((float(t["Value"]) for t in tags if t["Key"] == DELAY_TAG), 0.0)
        if delay > 0:
            timer = threading.Timer(delay, _publish_crl, args=(ca,))
            timer.daemon = True
            timer.start()
        else:
            _publish_crl(ca)

    ACMPCABackend.revoke_certificate = revoke_certificate  # type: ignore[method-assign]
