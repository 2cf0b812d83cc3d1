"""Drives every operation of botocore's rolesanywhere model against the emulator (argv[1]: its URL,
argv[2]: a CA certificate PEM file, argv[3]: a CRL DER file). Prints {"called": [...], "model": [...],
"errors": {...}} as JSON. An operation the model has and this script does not call shows up as a
difference between "called" and "model", so a new operation in botocore fails the test."""

import json
import sys

import boto3
import botocore.session

url, ca_file, crl_file = sys.argv[1], sys.argv[2], sys.argv[3]
ca = open(ca_file).read()
crl = open(crl_file, "rb").read()
client = boto3.client(
    "rolesanywhere",
    endpoint_url=url,
    region_name="us-east-1",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="secret",
)
model = botocore.session.get_session().get_service_model("rolesanywhere").operation_names
called, errors = [], {}


def call(op, **kwargs):
    try:
        out = getattr(client, botocore.xform_name(op))(**kwargs)
        called.append(op)
        return out
    except Exception as e:  # noqa: BLE001 - reported to the test
        errors[op] = f"{type(e).__name__}: {e}"
        return {}


ta = call(
    "CreateTrustAnchor",
    name="all-ops",
    enabled=True,
    source={"sourceType": "CERTIFICATE_BUNDLE", "sourceData": {"x509CertificateData": ca}},
    notificationSettings=[{"enabled": True, "event": "CA_CERTIFICATE_EXPIRY", "threshold": 30}],
    tags=[{"key": "team", "value": "platform"}],
)["trustAnchor"]
ta_id, ta_arn = ta["trustAnchorId"], ta["trustAnchorArn"]
call("ListTrustAnchors")
call("GetTrustAnchor", trustAnchorId=ta_id)
call("UpdateTrustAnchor", trustAnchorId=ta_id, name="all-ops-2")
call("DisableTrustAnchor", trustAnchorId=ta_id)
call("EnableTrustAnchor", trustAnchorId=ta_id)
call(
    "PutNotificationSettings",
    trustAnchorId=ta_id,
    notificationSettings=[{"enabled": False, "event": "END_ENTITY_CERTIFICATE_EXPIRY", "threshold": 10, "channel": "ALL"}],
)
call(
    "ResetNotificationSettings",
    trustAnchorId=ta_id,
    notificationSettingKeys=[{"event": "END_ENTITY_CERTIFICATE_EXPIRY", "channel": "ALL"}],
)
profile = call(
    "CreateProfile",
    name="all-ops",
    roleArns=["arn:aws:iam::123456789012:role/all-ops"],
    enabled=True,
    durationSeconds=3600,
)["profile"]
p_id, p_arn = profile["profileId"], profile["profileArn"]
call("ListProfiles")
call("GetProfile", profileId=p_id)
call("UpdateProfile", profileId=p_id, durationSeconds=1800)
call("DisableProfile", profileId=p_id)
call("EnableProfile", profileId=p_id)
call("PutAttributeMapping", profileId=p_id, certificateField="x509Subject", mappingRules=[{"specifier": "CN"}])
call("DeleteAttributeMapping", profileId=p_id, certificateField="x509SAN", specifiers=["URI"])
c = call("ImportCrl", name="all-ops", crlData=crl, trustAnchorArn=ta_arn, enabled=False)["crl"]
call("ListCrls")
call("GetCrl", crlId=c["crlId"])
call("UpdateCrl", crlId=c["crlId"], name="all-ops-2")
call("EnableCrl", crlId=c["crlId"])
call("DisableCrl", crlId=c["crlId"])
subjects = call("ListSubjects").get("subjects", [])
if subjects:
    call("GetSubject", subjectId=subjects[0]["subjectId"])
else:
    # No session yet: GetSubject of an unknown id must be a not-found, which is still a call made.
    try:
        client.get_subject(subjectId="00000000-0000-0000-0000-000000000000")
    except client.exceptions.ResourceNotFoundException:
        called.append("GetSubject")
call("TagResource", resourceArn=p_arn, tags=[{"key": "env", "value": "test"}])
call("ListTagsForResource", resourceArn=p_arn)
call("UntagResource", resourceArn=p_arn, tagKeys=["env"])
call("DeleteCrl", crlId=c["crlId"])
call("DeleteProfile", profileId=p_id)
call("DeleteTrustAnchor", trustAnchorId=ta_id)
print(json.dumps({"called": sorted(set(called)), "model": sorted(model), "errors": errors, "trustAnchor": ta, "profile": profile}, default=str))
