#!/usr/bin/env node
// Benchmark (not a test): SigV4-X509 signatures per second with a key in a SoftHSM2 token against the
// same algorithm with a key file, in the same run (no target: a report). Needs softhsm2 and opensc,
// and the build: npx -y pnpm@10.34.9 -r run build && node bench/pkcs11.mjs [seconds-per-row]
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const testing = await import(join(root, "packages/core/dist/testing/index.js")).catch(() => {
  console.error("bench: build first: npx -y pnpm@10.34.9 -r run build");
  process.exit(2);
});
const { issueCertificateForKey, readCredentialMaterial } = await import(
  join(root, "packages/core/dist/x509/index.js")
);
const { signStringToSign } = await import(join(root, "packages/core/dist/rolesanywhere/index.js"));
if (!testing.hasSoftHsm()) {
  console.error("bench: needs softhsm2 and opensc (apt-get install softhsm2 opensc)");
  process.exit(2);
}
const seconds = Number(process.argv[2] ?? 2);
const hsm = testing.createSoftHsm();
process.env.SOFTHSM2_CONF = hsm.conf;
const PIN = "123456";
hsm.initToken("bench", PIN);
const pki = await testing.createTestPki();
const text =
  "AWS4-X509-ECDSA-SHA256\n20261203T120000Z\n20261203/eu-west-1/rolesanywhere/aws4_request\n" +
  "a".repeat(64);

/** Signatures per second over `seconds`, after a warm-up. */
function rate(sign) {
  for (let i = 0; i < 20; i++) sign();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 10; i++) sign();
    n += 10;
  }
  return n / ((performance.now() - start) / 1000);
}

const rows = [];
try {
  for (const [keyType, label, fileAlgorithm] of [
    ["EC:prime256v1", "p256", "EC_P256"],
    ["rsa:2048", "rsa", "RSA_2048"],
  ]) {
    const publicKey = hsm.generateKey("bench", PIN, { keyType, label, id: label === "rsa" ? "01" : "02" });
    const day = 86_400_000;
    const { certificatePem } = await issueCertificateForKey(
      {
        subject: `CN=${label}`,
        issuer: pki.intermediate,
        notBefore: new Date(Date.now() - day),
        notAfter: new Date(Date.now() + day),
      },
      publicKey,
    );
    const onToken = await readCredentialMaterial({
      certificate: certificatePem,
      privateKey: `pkcs11:token=bench;object=${label}`,
      pkcs11: { modulePath: hsm.module, pin: PIN },
    });
    const leaf = await pki.issueLeaf({ keyAlgorithm: fileAlgorithm });
    const inFile = await readCredentialMaterial({
      certificate: leaf.certificatePem,
      privateKey: leaf.privateKeyPem,
    });
    const token = rate(() => signStringToSign(text, onToken.privateKey));
    const file = rate(() => signStringToSign(text, inFile.privateKey));
    rows.push({
      key: label,
      "token /s": Math.round(token),
      "file /s": Math.round(file),
      "token ÷ file": (token / file).toFixed(2),
    });
  }
  console.log(`Node ${process.version}, ${seconds} s per row`);
  console.table(rows);
} finally {
  hsm.cleanup();
}
