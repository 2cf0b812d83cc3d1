#!/usr/bin/env node
// Benchmark (not a test): `iam-ra credential-process` start-up against the `node -e 0` floor, measured
// in the same run, plus in-process sign+build throughput. Run after `npm test` (needs the CLI build):
//   node bench/credential-process.mjs [runs]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const { startEmulator } = await import(join(root, "packages/emulator/dist/index.js")).catch(() => {
  console.error("bench: build first: npx -y pnpm@10.34.9 -r run build");
  process.exit(2);
});
const { createTestPki } = await import(join(root, "packages/core/dist/testing/index.js"));
const { parseCredentialMaterial } = await import(join(root, "packages/core/dist/x509/index.js"));
const { createSignedCreateSessionRequest, resolveEndpoint } = await import(
  join(root, "packages/core/dist/rolesanywhere/index.js")
);

const runs = Number(process.argv[2] ?? 20);
const bin = join(root, "apps/cli/bin/run.js");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timeInterleaved = (fns) => {
  const samples = fns.map(() => []);
  for (let i = 0; i < runs; i++) {
    fns.forEach((fn, j) => {
      const t = performance.now();
      fn();
      samples[j].push(performance.now() - t);
    });
  }
  return samples.map(median);
};

const emu = await startEmulator();
const dir = mkdtempSync(join(tmpdir(), "iam-ra-bench-"));
try {
  const pki = await createTestPki();
  const leaf = await pki.issueLeaf({ issuer: "root" });
  writeFileSync(join(dir, "cert.pem"), leaf.certificatePem);
  writeFileSync(join(dir, "key.pem"), leaf.privateKeyPem, { mode: 0o600 });
  const auth = {
    authorization:
      "AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=0",
  };
  const post = async (path, body) =>
    (await fetch(`${emu.url}${path}`, { method: "POST", headers: auth, body: JSON.stringify(body) })).json();
  const ta = (
    await post("/trustanchors", {
      name: "b",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.root.certificatePem },
      },
    })
  ).trustAnchor;
  const role = "arn:aws:iam::123456789012:role/bench";
  const profile = (await post("/profiles", { name: "b", enabled: true, roleArns: [role] })).profile;
  emu.putRole(role, {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "rolesanywhere.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
      },
    ],
  });
  const args = [
    bin,
    "credential-process",
    "--certificate",
    join(dir, "cert.pem"),
    "--private-key",
    join(dir, "key.pem"),
    "--trust-anchor-arn",
    ta.trustAnchorArn,
    "--profile-arn",
    profile.profileArn,
    "--role-arn",
    role,
    "--endpoint",
    emu.url,
  ];
  const cacheDir = join(dir, "cache");

  // The child processes run while this process's event loop is blocked, so the emulator must live
  // in another process for the cache-miss measurement: hand it this one's state through --persist.
  await emu.close();
  writeFileSync(join(dir, "emu.json"), `${JSON.stringify(emu.state)}\n`);
  const child = (await import("node:child_process")).spawn(
    process.execPath,
    [join(root, "packages/emulator/bin/iam-ra-emulator.js"), "--persist", join(dir, "emu.json")],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const url = await new Promise((resolve) => child.stdout.once("data", (d) => resolve(String(d).trim())));
  const childArgs = args.map((a) => (a === emu.url ? url : a));
  try {
    execFileSync(process.execPath, [...childArgs, "--cache", "--cache-dir", cacheDir]);
    // Interleaved, so drift in machine load hits floor, hit and miss alike.
    // One environment for all three, without NODE_EXTRA_CA_CERTS: Node 20 reads that bundle at
    // every start (~50 ms), a constant that would flatter every ratio (the emulator is plain HTTP).
    const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
    const [floor, hit, miss] = timeInterleaved([
      () => execFileSync(process.execPath, ["-e", "0"], { env }),
      () => execFileSync(process.execPath, [...childArgs, "--cache", "--cache-dir", cacheDir], { env }),
      () => execFileSync(process.execPath, childArgs, { env }),
    ]);

    const material = await parseCredentialMaterial({
      certificate: leaf.certificatePem,
      privateKey: leaf.privateKeyPem,
    });
    const identity = {
      certificateDer: material.certificate.raw,
      serialNumber: material.serialNumber,
      algorithm: material.algorithm,
      privateKey: material.privateKey,
    };
    const endpoint = resolveEndpoint({ region: "us-east-1" });
    const params = { trustAnchorArn: ta.trustAnchorArn, profileArn: profile.profileArn, roleArn: role };
    const n = 20000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++)
      createSignedCreateSessionRequest({ endpoint, params, identity, date: new Date() });
    const perSecond = n / ((performance.now() - t0) / 1000);

    console.log(`node ${process.version}, ${runs} runs each, medians`);
    console.log(`node -e 0 (floor)                    ${floor.toFixed(1)} ms`);
    console.log(
      `credential-process, cache hit       ${hit.toFixed(1)} ms  ${(hit / floor).toFixed(2)}x floor (target <= 1.3x)`,
    );
    console.log(
      `credential-process, cache miss      ${miss.toFixed(1)} ms  ${(miss / floor).toFixed(2)}x floor (target <= 2.5x)`,
    );
    console.log(`EC P-256 sign+build in process      ${Math.round(perSecond)} /s (target >= 5000/s)`);
  } finally {
    // It writes its state into dir as it stops: wait for that before dir is removed.
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill();
      await exited;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
