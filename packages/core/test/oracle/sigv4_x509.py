#!/usr/bin/env python3
"""An independent SigV4-X509 signer and verifier for the iam-ra test suites.

It takes SigV4 canonicalisation from botocore (the AWS SDK for Python) and signatures from the
`cryptography` package, so a canonicalisation bug in @iam-ra/core cannot hide behind the same bug
in @iam-ra/emulator. Reads one JSON object on stdin and writes one on stdout.

  verify: {"mode":"verify","method","url","headers":{...},"body"}
          -> {"ok":bool,"reason":str,"canonicalRequest":str,"stringToSign":str}
  sign:   {"mode":"sign","url","region","amzDate","body","certPem","keyPem","chainPems":[...],
           "contentType","bodyArns":bool}
          -> {"headers":{...},"canonicalRequest":str}
"""
import base64
import hashlib
import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def _auth(region):
    return SigV4Auth(Credentials("unused", "unused"), "rolesanywhere", region)


def _string_to_sign(algorithm, amz_date, scope, canonical_request):
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return "\n".join([algorithm, amz_date, scope, digest])


def verify(req):
    headers = {k.lower(): v for k, v in req["headers"].items()}
    auth_header = headers.get("authorization", "")
    try:
        algorithm, rest = auth_header.split(" ", 1)
        fields = dict(p.strip().split("=", 1) for p in rest.split(","))
        serial, date, region, service, term = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        signature = bytes.fromhex(fields["Signature"])
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "reason": f"malformed authorization: {e}"}
    signed_only = {name: headers[name] for name in signed if name in headers}
    if len(signed_only) != len(signed):
        return {"ok": False, "reason": "a signed header is missing"}
    request = AWSRequest(method=req["method"], url=req["url"], headers=signed_only, data=req["body"].encode("utf-8"))
    auth = _auth(region)
    canonical = auth.canonical_request(request)
    sts = _string_to_sign(algorithm, headers["x-amz-date"], f"{date}/{region}/{service}/{term}", canonical)
    cert = x509.load_der_x509_certificate(base64.b64decode(headers["x-amz-x509"]))
    if str(cert.serial_number) != serial:
        return {"ok": False, "reason": "serial mismatch", "canonicalRequest": canonical, "stringToSign": sts}
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algorithm != "AWS4-X509-RSA-SHA256":
                return {"ok": False, "reason": "algorithm mismatch"}
            key.verify(signature, sts.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if algorithm != "AWS4-X509-ECDSA-SHA256":
                return {"ok": False, "reason": "algorithm mismatch"}
            key.verify(signature, sts.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
        else:
            return {"ok": False, "reason": "unsupported key"}
    except InvalidSignature:
        return {"ok": False, "reason": "invalid signature", "canonicalRequest": canonical, "stringToSign": sts}
    return {"ok": True, "reason": "", "canonicalRequest": canonical, "stringToSign": sts}


def sign(req):
    cert = x509.load_pem_x509_certificate(req["certPem"].encode())
    key = serialization.load_pem_private_key(req["keyPem"].encode(), password=None)
    headers = {
        "Content-Type": req.get("contentType", "application/json"),
        "X-Amz-Date": req["amzDate"],
        "X-Amz-X509": base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode(),
    }
    chain = req.get("chainPems") or []
    if chain:
        headers["X-Amz-X509-Chain"] = ",".join(
            base64.b64encode(
                x509.load_pem_x509_certificate(p.encode()).public_bytes(serialization.Encoding.DER)
            ).decode()
            for p in chain
        )
    request = AWSRequest(method="POST", url=req["url"], headers=headers, data=req["body"].encode("utf-8"))
    auth = _auth(req["region"])
    canonical = auth.canonical_request(request)
    signed = auth.signed_headers(auth.headers_to_sign(request))
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm = "AWS4-X509-RSA-SHA256"
    else:
        algorithm = "AWS4-X509-ECDSA-SHA256"
    scope = f"{req['amzDate'][:8]}/{req['region']}/rolesanywhere/aws4_request"
    sts = _string_to_sign(algorithm, req["amzDate"], scope, canonical)
    if isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(sts.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    else:
        sig = key.sign(sts.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    headers["Authorization"] = (
        f"{algorithm} Credential={cert.serial_number}/{scope}, SignedHeaders={signed}, Signature={sig.hex()}"
    )
    # botocore signs Host from the URL; send exactly that value.
    headers["Host"] = request.headers.get("host") or auth.headers_to_sign(request)["host"]
    return {"headers": headers, "canonicalRequest": canonical}


def main():
    req = json.load(sys.stdin)
    out = verify(req) if req["mode"] == "verify" else sign(req)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
