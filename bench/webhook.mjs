#!/usr/bin/env node
// Benchmark (not a test): the admission webhook answering AdmissionReviews over HTTPS at a steady
// 200 requests/s (what a busy cluster's pod churn looks like, many times over), against a bare
// node:https server answering the same bytes (the floor), measured in the same run with
// autocannon. Prints p50/p99 latency (target: p99 <= 10 ms) and the most each sustains.
// Run after `npm test` (needs apps/sidecar/dist):  node bench/webhook.mjs [seconds]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const root = fileURLToPath(new URL("..", import.meta.url));
const seconds = Number(process.argv[2] ?? 10);
const RATE = 200;
const webhookMain = join(root, "apps/sidecar/dist/webhook.js");
if (!existsSync(webhookMain) || !existsSync(join(root, "packages/core/dist/x509/index.js"))) {
  console.error("bench: build first: npx -y pnpm@10.34.9 -r run build");
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "iam-ra-bench-webhook-"));
const children = [];
try {
  // A serving certificate for the Service (and its CA), as cert-manager would issue it.
  const { createServingCertificate } = await import(join(root, "packages/core/dist/x509/index.js"));
  const tls = await createServingCertificate({
    commonName: "iam-ra-webhook.iam-ra-system.svc",
    dnsNames: ["iam-ra-webhook.iam-ra-system.svc"],
    ips: ["127.0.0.1"],
  });
  writeFileSync(join(dir, "tls.crt"), tls.certificatePem);
  writeFileSync(join(dir, "tls.key"), tls.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, "ca.crt"), tls.caCertificatePem);
  const role = {
    trustAnchorArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0b4f6b0c",
    profileArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/7c1e2a3b",
    roleArn: "arn:aws:iam::123456789012:role/iam-ra-prod-billing-reader",
    region: "eu-west-1",
    commonName: null,
    subject: { organizationalUnits: ["billing-reader"] },
    duration: "24h",
    renewBefore: "8h",
    certificate: { mode: "csi" },
  };
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      version: 1,
      cluster: "bench",
      namespaces: { billing: { issuer: "iam-ra-bench-default", roles: { "billing-reader": role } } },
    }),
  );
  // A Deployment's pod as the replica set controller creates it: two containers, env, mounts.
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: "billing-api-7d9f8c6b5-",
      namespace: "billing",
      labels: { app: "billing-api", "pod-template-hash": "7d9f8c6b5" },
      annotations: { "iam-ra.dev/role": "billing-reader" },
    },
    spec: {
      serviceAccountName: "billing-api",
      containers: [
        {
          name: "app",
          image: "registry.example.com/billing/api:4.2.0",
          env: [{ name: "LOG_LEVEL", value: "info" }],
          volumeMounts: [{ name: "cache", mountPath: "/cache" }],
          resources: { requests: { cpu: "100m", memory: "128Mi" } },
        },
        { name: "proxy", image: "registry.example.com/proxy:1.0.0" },
      ],
      volumes: [{ name: "cache", emptyDir: {} }],
    },
  };
  const review = JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: "billing",
      operation: "CREATE",
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
      object: pod,
    },
  });

  const port = await freePort();
  const webhook = spawn(process.execPath, [webhookMain], {
    env: {
      PATH: process.env.PATH,
      IAM_RA_WEBHOOK_HOST: "127.0.0.1",
      IAM_RA_WEBHOOK_PORT: String(port),
      IAM_RA_WEBHOOK_TLS_CERT: join(dir, "tls.crt"),
      IAM_RA_WEBHOOK_TLS_KEY: join(dir, "tls.key"),
      IAM_RA_WEBHOOK_CONFIG: join(dir, "config.json"),
      IAM_RA_WEBHOOK_SIDECAR_IMAGE: "ghcr.io/iam-ra/sidecar:bench",
      IAM_RA_WEBHOOK_NAMESPACE: "iam-ra-system",
      IAM_RA_WEBHOOK_SERVICE_ACCOUNTS: "off",
      IAM_RA_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(webhook);
  const webhookUrl = `https://127.0.0.1:${port}`;
  const ca = readFileSync(join(dir, "ca.crt"));
  const post = async (url, agent) =>
    await new Promise((resolve, reject) => {
      const req = https.request(
        `${url}/mutate`,
        { method: "POST", ca, agent, headers: { "content-type": "application/json" } },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on("error", reject);
      req.end(review);
    });
  let answer;
  for (let i = 0; i < 200 && !answer; i++) {
    answer = await post(webhookUrl).catch(() => undefined);
    if (!answer) await new Promise((r) => setTimeout(r, 50));
  }
  if (answer?.status !== 200 || !JSON.parse(answer.body).response.patch)
    throw new Error(`the webhook did not inject: ${answer?.status} ${answer?.body}`);

  // The floor: node:https with the same certificate answering the same bytes, no parsing.
  const floor = spawn(
    process.execPath,
    [
      "-e",
      `const fs=require("node:fs"),b=process.argv[1];require("node:https").createServer({cert:fs.readFileSync(process.argv[2]),key:fs.readFileSync(process.argv[3])},(q,s)=>{q.resume();q.on("end",()=>{s.writeHead(200,{"content-type":"application/json","content-length":Buffer.byteLength(b)});s.end(b)})}).listen(0,"127.0.0.1",function(){console.log(this.address().port)})`,
      answer.body,
      join(dir, "tls.crt"),
      join(dir, "tls.key"),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(floor);
  const [portLine] = await once(floor.stdout, "data");
  const floorUrl = `https://127.0.0.1:${String(portLine).trim()}`;

  // Steady load, open loop: one request every 1/RATE s whatever the answers do (as pod creations
  // arrive), over keep-alive connections; each latency timed on its own. autocannon's rate limiter
  // sends each second's quota in a burst, which measures its queue rather than the server.
  const steady = async (url, duration) => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 10, ca });
    const latencies = [];
    let errors = 0;
    const pending = [];
    const start = performance.now();
    const total = RATE * duration;
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      pending.push(
        post(url, agent).then(
          (a) => {
            if (a.status === 200) latencies.push(performance.now() - t0);
            else errors++;
          },
          () => errors++,
        ),
      );
    }
    await Promise.all(pending);
    agent.destroy();
    latencies.sort((a, b) => a - b);
    const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return { p50: at(0.5), p99: at(0.99), rate: total / ((performance.now() - start) / 1000), errors };
  };
  // Closed loop, as fast as it goes: the most each sustains (autocannon, 10 connections).
  const max = (url, duration) =>
    autocannon({
      url: `${url}/mutate`,
      method: "POST",
      body: review,
      headers: { "content-type": "application/json" },
      connections: 10,
      duration,
    });
  // Warm up, then alternate rounds so a change in machine load hits the floor and the webhook alike.
  await max(floorUrl, 1);
  await max(webhookUrl, 1);
  const rounds = 3;
  const runs = { floor: { steady: [], max: [] }, webhook: { steady: [], max: [] } };
  for (let r = 0; r < rounds; r++) {
    for (const [name, url] of [
      ["floor", floorUrl],
      ["webhook", webhookUrl],
    ]) {
      runs[name].steady.push(await steady(url, seconds));
      runs[name].max.push(await max(url, Math.max(2, Math.round(seconds / 2))));
    }
  }
  for (const r of runs.webhook.steady)
    if (r.errors > 0) throw new Error("the webhook answered errors under load");
  for (const r of runs.webhook.max)
    if (r.non2xx > 0 || r.errors > 0) throw new Error("the webhook answered errors under load");
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const row = (name) => ({
    p50: median(runs[name].steady.map((r) => r.p50)),
    p99: median(runs[name].steady.map((r) => r.p99)),
    rate: median(runs[name].steady.map((r) => r.rate)),
    max: median(runs[name].max.map((r) => r.requests.average)),
  });
  const base = row("floor");
  const hook = row("webhook");
  const rss = (pid) =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  console.log(
    `node ${process.version}, ${rounds} alternating rounds, medians; steady ${RATE} req/s open loop for ${seconds} s over <= 10 keep-alive connections, loopback HTTPS; load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
  );
  const ms = (x) => x.toFixed(2).padStart(6);
  const line = (label, x, pid) =>
    console.log(
      `${label.padEnd(26)} p50 ${ms(x.p50)} ms  p99 ${ms(x.p99)} ms  at ${x.rate.toFixed(0)} req/s;  max ${x.max.toFixed(0).padStart(6)} req/s  RSS ${rss(pid).toFixed(0)} MB`,
    );
  line("bare node:https (floor)", base, floor.pid);
  line("webhook /mutate", hook, webhook.pid);
  console.log(
    `p99 ${hook.p99.toFixed(2)} ms (target <= 10 ms; floor ${base.p99.toFixed(2)} ms, ${(hook.p99 / base.p99).toFixed(1)}x); max throughput ${(hook.max / base.max).toFixed(2)}x floor`,
  );
} finally {
  for (const c of children) c.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}

async function freePort() {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address();
  probe.close();
  await once(probe, "close");
  return port;
}
