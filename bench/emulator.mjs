#!/usr/bin/env node
// Benchmark (not a test): the emulator's CreateSession under loopback load (autocannon, one signed
// request replayed within its 5-minute window), each emulator in its own process:
//   in memory (the reference), --iam-endpoint (trust policy in moto's IAM; target >= 0.8x in
//   memory), --persist on a new file and after N prior sessions (target ~1.0x each other), and a
//   bare node:http server answering the same bytes (the floor), measured in the same run, in
//   alternating rounds. Run after a build:  node bench/emulator.mjs [seconds=2] [N=2000] [rounds=5]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const root = fileURLToPath(new URL("..", import.meta.url));
const seconds = Number(process.argv[2] ?? 2);
const prior = Number(process.argv[3] ?? 2000);
const load = (p) =>
  import(join(root, p)).catch(() => {
    console.error(
      "bench: build first: npx -y pnpm@10.34.9 exec turbo run build --filter=@iam-ra/emulator...",
    );
    process.exit(2);
  });
const { createBoundTrustPolicy } = await load("packages/emulator/dist/index.js");
const { createTestPki } = await load("packages/core/dist/testing/index.js");
const { startMoto } = await load("packages/emulator/dist/testing/index.js");
const { createSession } = await load("packages/core/dist/rolesanywhere/index.js");
const { parseCredentialMaterial } = await load("packages/core/dist/x509/index.js");

const ROLE = "arn:aws:iam::123456789012:role/bench";
const AUTH = {
  "content-type": "application/json",
  authorization:
    "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=00",
};
const dir = mkdtempSync(join(tmpdir(), "iam-ra-bench-emulator-"));
const children = [];
let moto;

/** Starts `iam-ra-emulator` with these flags; resolves to its URL. */
async function startEmulator(args) {
  const child = spawn(process.execPath, [join(root, "packages/emulator/bin/iam-ra-emulator.js"), ...args], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  children.push(child);
  const [line] = await once(child.stdout, "data");
  return String(line).trim();
}

async function call(url, method, path, body) {
  const res = await fetch(`${url}${path}`, { method, headers: AUTH, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

try {
  const pki = await createTestPki();
  const leaf = await pki.issueLeaf({ subject: "CN=bench,OU=bench", issuer: "root" });
  const material = await parseCredentialMaterial({
    certificate: leaf.certificatePem,
    privateKey: leaf.privateKeyPem,
  });
  moto = await startMoto();
  const created = await fetch(moto.url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: AUTH.authorization.replace("rolesanywhere", "iam"),
    },
    body: new URLSearchParams({
      Action: "CreateRole",
      Version: "2010-05-08",
      RoleName: "bench",
      AssumeRolePolicyDocument: JSON.stringify(createBoundTrustPolicy("bench")),
    }),
  });
  if (!created.ok) throw new Error(`moto CreateRole: ${created.status}`);

  /** An emulator with the bench's anchor and profile; the role registered unless IAM has it. */
  const setUp = async (args, { register }) => {
    const url = await startEmulator(args);
    const { trustAnchor } = await call(url, "POST", "/trustanchors", {
      name: "bench",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.root.certificatePem },
      },
    });
    const { profile } = await call(url, "POST", "/profiles", {
      name: "bench",
      enabled: true,
      roleArns: [ROLE],
    });
    if (register)
      await call(url, "POST", "/_emulator/roles", {
        roleArn: ROLE,
        trustPolicy: createBoundTrustPolicy("bench"),
      });
    return {
      url,
      params: { trustAnchorArn: trustAnchor.trustAnchorArn, profileArn: profile.profileArn, roleArn: ROLE },
    };
  };
  /** The signed CreateSession request core would send now (replayable for 5 minutes). */
  const signed = async ({ url, params }) => {
    let request;
    await createSession(material, params, {
      endpoint: url,
      maxAttempts: 1,
      transport: async (r) => {
        request = r;
        throw new Error("captured");
      },
    }).catch(() => {});
    return request;
  };
  const targets = {
    memory: await setUp([], { register: true }),
    iam: await setUp(["--iam-endpoint", moto.url], { register: false }),
    persist0: await setUp(["--persist", join(dir, "fresh.json")], { register: true }),
    persistN: await setUp(["--persist", join(dir, "grown.json")], { register: true }),
  };
  const hammer = async (target, options) => {
    const r = await signed(target);
    const result = await autocannon({
      url: String(r.url),
      method: r.method,
      headers: r.headers,
      body: Buffer.from(r.body),
      connections: 10,
      ...options,
    });
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${r.url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result;
  };
  // History for the grown file: N sessions through the same path (journal, compactions).
  await hammer(targets.persistN, { amount: prior });

  // The floor answers with the bytes of a real CreateSession answer.
  const sample = await signed(targets.memory);
  const answer = await new Promise((resolve, reject) => {
    const req = request(sample.url, { method: sample.method, headers: sample.headers }, (res) => {
      let text = "";
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => (res.statusCode === 201 ? resolve(text) : reject(new Error(text))));
    });
    req.on("error", reject);
    req.end(sample.body);
  });
  const floor = spawn(
    process.execPath,
    [
      "-e",
      `const b=process.argv[1];require("node:http").createServer((q,s)=>{q.resume();q.on("end",()=>{s.writeHead(201,{"content-type":"application/json","content-length":Buffer.byteLength(b)});s.end(b)})}).listen(0,"127.0.0.1",function(){console.log(this.address().port)})`,
      answer,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(floor);
  const [portLine] = await once(floor.stdout, "data");
  targets.floor = { url: `http://127.0.0.1:${String(portLine).trim()}`, params: targets.memory.params };

  const rounds = Number(process.argv[4] ?? 5);
  const results = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
  for (const key of Object.keys(targets)) await hammer(targets[key], { duration: 1 }); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const key of Object.keys(targets))
      results[key].push((await hammer(targets[key], { duration: seconds })).requests.average);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rps = Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, median(xs)]));
  const row = (label, value, note = "") =>
    console.log(`${label.padEnd(40)}${value.toFixed(0).padStart(7)} req/s  ${note}`);
  console.log(
    `node ${process.version}, ${rounds} alternating rounds of ${seconds} s, medians, 10 connections, loopback; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  row("bare node:http (floor)", rps.floor);
  row("CreateSession in memory", rps.memory, `${(rps.memory / rps.floor).toFixed(2)}x floor`);
  row(
    "CreateSession --iam-endpoint",
    rps.iam,
    `${(rps.iam / rps.memory).toFixed(2)}x in memory (target >= 0.8)`,
  );
  row(
    "CreateSession --persist (new file)",
    rps.persist0,
    `${(rps.persist0 / rps.memory).toFixed(2)}x in memory`,
  );
  row(
    `CreateSession --persist (+${prior} before)`,
    rps.persistN,
    `${(rps.persistN / rps.persist0).toFixed(2)}x new file (target ~1.0)`,
  );
} finally {
  // Wait for the exits: a stopping emulator folds its journal into the snapshot in the folder.
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of running) c.kill("SIGTERM");
  await Promise.all(running.map((c) => once(c, "exit")));
  await moto?.close();
  rmSync(dir, { recursive: true, force: true });
}
