#!/usr/bin/env node
// Benchmark (not a test): the work iam-ra does around the signature of a CreateSession request —
// building the request (query, headers, base64 certificate, JSON body) and SigV4-X509 (canonical
// request, string to sign, Authorization) — against the floor of the signature alone
// (`crypto.sign` of a same-sized string with the same key), measured in the same run. Target
// (issue 17): overhead ≤ 25 µs per request. The overhead is also measured directly, with a signing key
// that returns a fixed signature (so no crypto noise; RSA's 0.6 ms signature swamps a 20 µs difference
// on a loaded machine). Medians of interleaved rounds.
// Run after a build of core:  node bench/signing.mjs [rounds] [iterations]
import { createPrivateKey, generateKeyPairSync, sign, X509Certificate } from "node:crypto";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const { buildCreateSessionRequest, signRequestX509, resolveEndpoint } = await import(
  `${root}packages/core/dist/rolesanywhere/index.js`
);
const { createTestPki } = await import(`${root}packages/core/dist/testing/index.js`);

const rounds = Number(process.argv[2] ?? 7);
const iterations = Number(process.argv[3] ?? 2000);
const pki = await createTestPki();
const rows = [];
for (const keyAlgorithm of ["EC_P256", "RSA_2048"]) {
  const leaf = await pki.issueLeaf({ subject: "CN=bench,OU=web", keyAlgorithm });
  const certificate = new X509Certificate(leaf.certificatePem);
  const privateKey = createPrivateKey(leaf.privateKeyPem);
  const algorithm = keyAlgorithm.startsWith("EC") ? "AWS4-X509-ECDSA-SHA256" : "AWS4-X509-RSA-SHA256";
  const identity = {
    serialNumber: BigInt(`0x${certificate.serialNumber}`).toString(),
    algorithm,
    privateKey,
  };
  const endpoint = resolveEndpoint({ region: "eu-west-1" });
  const params = {
    trustAnchorArn:
      "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    profileArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/4b5a6978-8796-a5b4-c3d2-e1f00f1e2d3c",
    roleArn: "arn:aws:iam::123456789012:role/ci-deploy",
    durationSeconds: 3600,
  };
  const date = new Date();
  const full = () =>
    signRequestX509(
      buildCreateSessionRequest({ endpoint, params, certificateDer: certificate.raw, date }),
      identity,
      "eu-west-1",
    );
  const stringToSign = full().stringToSign; // the same size as what is signed
  const floor = () =>
    sign("sha256", Buffer.from(stringToSign, "utf8"), { key: privateKey, dsaEncoding: "der" });
  const fixed = Buffer.alloc(keyAlgorithm.startsWith("EC") ? 72 : 256, 1);
  const noopKey = { kind: "pkcs11", keyType: "EC", description: "fixed", signSha256: () => fixed };
  const noop = () =>
    signRequestX509(
      buildCreateSessionRequest({ endpoint, params, certificateDer: certificate.raw, date }),
      { ...identity, privateKey: noopKey },
      "eu-west-1",
    );
  const time = (fn) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    return Number(process.hrtime.bigint() - started) / 1e3 / iterations;
  };
  for (let i = 0; i < 200; i++) full(), floor(), noop(); // warm up
  const f = [];
  const s = [];
  const n = [];
  for (let r = 0; r < rounds; r++) {
    f.push(time(floor));
    s.push(time(full));
    n.push(time(noop));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  rows.push({ key: keyAlgorithm, floor: median(f), full: median(s), overhead: median(n) });
}
console.log(`node ${process.version}, ${rounds} rounds × ${iterations}; µs per request (median)`);
console.log(
  "key        signature alone (floor)   build + sign   ratio   overhead (fixed-signature key)   target ≤ 25 µs",
);
for (const r of rows) {
  console.log(
    `${r.key.padEnd(10)} ${r.floor.toFixed(1).padStart(12)} ${r.full.toFixed(1).padStart(24)} ${(r.full / r.floor).toFixed(2).padStart(7)}× ${r.overhead.toFixed(1).padStart(18)}               ${r.overhead <= 25 ? "ok" : "over"}`,
  );
}
