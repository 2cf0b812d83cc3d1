import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WebhookConfig } from "@iam-ra/core/k8s";
import { createServingCertificate } from "@iam-ra/core/x509";
import jsonpatch from "fast-json-patch";
import { Pod } from "kubernetes-models/v1/Pod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/server/logger.ts";
import { createServiceAccountReader } from "../../src/server/webhook/kube-api.ts";
import { startWebhookServer, type WebhookServer } from "../../src/server/webhook/server.ts";

// The webhook as the API server sees it: AdmissionReview v1 over HTTPS, answered with a JSON patch
// that an RFC 6902 library applies and kubernetes-models validates.

// biome-ignore lint/suspicious/noExplicitAny: reviews and pods are walked as plain JSON
type Obj = Record<string, any>;

const ROLE = {
  trustAnchorArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0b4f6b0c",
  profileArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/7c1e2a3b",
  roleArn: "arn:aws:iam::123456789012:role/iam-ra-prod-billing-reader",
  region: "eu-west-1",
  commonName: null,
  subject: { organizationalUnits: ["billing-reader"] },
  duration: "24h",
  renewBefore: "8h",
  certificate: { mode: "csi" as const },
};
const CONFIG: WebhookConfig = {
  version: 1,
  cluster: "prod-eu",
  namespaces: { billing: { issuer: "iam-ra-prod-default", roles: { "billing-reader": ROLE } } },
};

let dir: string;
let ca: Buffer;
let server: WebhookServer;
let api: ReturnType<typeof createServer>;
const apiRequests: Obj[] = [];
const logs: Obj[] = [];

/** A serving certificate for localhost and 127.0.0.1 (and its CA), written as cert and key files. */
async function servingCertificate(name: string): Promise<{ cert: string; key: string; ca: string }> {
  const tls = await createServingCertificate({
    commonName: name,
    dnsNames: ["localhost"],
    ips: ["127.0.0.1"],
  });
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, tls.certificatePem);
  writeFileSync(key, tls.privateKeyPem, { mode: 0o600 });
  return { cert, key, ca: tls.caCertificatePem };
}

/** POSTs to the webhook over HTTPS, trusting only its CA (what the caBundle does). */
async function post(
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<{ status: number; json: Obj; text: string }> {
  const url = new URL(path, server.url);
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let json: Obj = {};
        try {
          json = JSON.parse(text) as Obj;
        } catch {}
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const pod = (metadata: Obj, spec: Obj = {}): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { namespace: "billing", ...metadata },
  spec: {
    serviceAccountName: "billing-api",
    containers: [{ name: "app", image: "registry.example.com/app:1" }],
    ...spec,
  },
});

const review = (object: Obj, extra: Obj = {}): string =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      operation: "CREATE",
      namespace: object.metadata.namespace,
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
      object,
      ...extra,
    },
  });

/** The API server's side: applies the answer's patch to the pod, as an RFC 6902 library does. */
function applyAnswer(object: Obj, response: Obj): Obj {
  expect(response.patchType).toBe("JSONPatch");
  const operations = JSON.parse(Buffer.from(response.patch, "base64").toString("utf8"));
  return jsonpatch.applyPatch(structuredClone(object), operations, true, false).newDocument;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "iam-ra-webhook-"));
  const tls = await servingCertificate("iam-ra-webhook");
  ca = Buffer.from(tls.ca);
  const configFile = join(dir, "config.json");
  writeFileSync(configFile, JSON.stringify(CONFIG));
  // A fake API server, over TLS with the same CA, answering service-account reads.
  const apiTls = await servingCertificate("kubernetes");
  api = createServer({ cert: readFileSync(apiTls.cert), key: readFileSync(apiTls.key) }, (req, res) => {
    apiRequests.push({ url: req.url, authorization: req.headers.authorization });
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)$/.exec(req.url ?? "");
    if (m?.[2] === "annotated") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "ServiceAccount",
          metadata: { name: m[2], namespace: m[1], annotations: { "iam-ra.dev/role": "billing-reader" } },
        }),
      );
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", code: 404 }));
    }
  });
  api.listen(0, "127.0.0.1");
  await once(api, "listening");
  const tokenFile = join(dir, "sa-token");
  writeFileSync(tokenFile, "pod-token\n");
  server = await startWebhookServer({
    host: "127.0.0.1",
    port: 0,
    tls: { certFile: tls.cert, keyFile: tls.key },
    configFile,
    sidecarImage: "ghcr.io/iam-ra/sidecar:1.0.0",
    dryRun: false,
    webhookNamespace: "iam-ra-system",
    maxBodyBytes: 256 * 1024,
    readServiceAccount: createServiceAccountReader({
      apiUrl: `https://127.0.0.1:${(api.address() as AddressInfo).port}`,
      caFile: apiTls.cert,
      tokenFile,
    }),
    logger: createLogger((line) => logs.push(JSON.parse(line)), "debug"),
  });
});

afterAll(async () => {
  await server?.close();
  api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the admission webhook over HTTPS", () => {
  it("an annotated pod gets the native sidecar, its csi certificate, the token volume and the env; the result validates", async () => {
    const object = pod({ name: "api-1", annotations: { "iam-ra.dev/role": "billing-reader" } });
    const r = await post("/mutate", review(object));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true },
    });
    const patched = applyAnswer(object, r.json.response);
    new Pod(patched as never).validate();
    const sidecar = patched.spec.initContainers.find((c: Obj) => c.name === "iam-ra");
    expect(sidecar).toMatchObject({ restartPolicy: "Always", image: "ghcr.io/iam-ra/sidecar:1.0.0" });
    const csi = patched.spec.volumes.find((v: Obj) => v.csi);
    expect(csi.csi).toMatchObject({
      driver: "csi.cert-manager.io",
      readOnly: true,
      volumeAttributes: expect.objectContaining({
        "csi.cert-manager.io/issuer-name": "iam-ra-prod-default",
        "csi.cert-manager.io/organizationalunits": "billing-reader",
      }),
    });
    const env = Object.fromEntries(patched.spec.containers[0].env.map((e: Obj) => [e.name, e.value]));
    expect(env).toMatchObject({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:9911/v1/credentials",
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: expect.stringMatching(/^\/var\/run\/iam-ra\/token\//),
    });
    // Idempotent: the patched pod, reviewed again (a re-invocation), is left as it is.
    const again = await post("/mutate", review(patched));
    expect(again.json.response).toMatchObject({ allowed: true });
    expect(again.json.response.patch).toBeUndefined();
  });

  it("reads the role from the pod's service account through the API server, with the pod's token", async () => {
    const object = pod({ name: "api-2" }, { serviceAccountName: "annotated" });
    const r = await post("/mutate", review(object));
    const patched = applyAnswer(object, r.json.response);
    expect(patched.spec.initContainers.map((c: Obj) => c.name)).toEqual(["iam-ra"]);
    expect(apiRequests).toContainEqual({
      url: "/api/v1/namespaces/billing/serviceaccounts/annotated",
      authorization: "Bearer pod-token",
    });
  });

  it("leaves unannotated pods alone and refuses a role not onboarded in the namespace, naming the ones it may use", async () => {
    const plain = await post("/mutate", review(pod({ name: "plain" })));
    expect(plain.json.response).toMatchObject({ allowed: true });
    expect(plain.json.response.patch).toBeUndefined();
    const denied = await post(
      "/mutate",
      review(pod({ name: "x", annotations: { "iam-ra.dev/role": "admin" } })),
    );
    expect(denied.json.response.allowed).toBe(false);
    expect(denied.json.response.status.message).toMatch(/admin/);
    expect(denied.json.response.status.message).toMatch(/billing-reader/);
  });

  it("malformed reviews, huge payloads and wrong content types are refused with a status, never crash it", async () => {
    expect((await post("/mutate", "{not json")).status).toBe(400);
    expect((await post("/mutate", JSON.stringify({ kind: "AdmissionReview" }))).status).toBe(400);
    const huge = await post("/mutate", Buffer.alloc(300 * 1024, 0x20));
    expect(huge.status).toBe(413);
    const typed = await post("/mutate", review(pod({ name: "t" })), { "content-type": "text/plain" });
    expect(typed.status).toBe(415);
    // Still serving, and the metrics say what happened.
    const plain = await post("/mutate", review(pod({ name: "after" })));
    expect(plain.status).toBe(200);
    const metrics = await new Promise<string>((resolve, reject) => {
      request(new URL("/metrics", server.url), { ca }, (res) => {
        let text = "";
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => resolve(text));
      })
        .on("error", reject)
        .end();
    });
    expect(metrics).toMatch(/iam_ra_webhook_admissions_total\{result="rejected"\} 4/);
    expect(metrics).toMatch(/iam_ra_webhook_admissions_total\{result="injected"\} [1-9]/);
    expect(metrics).toMatch(/iam_ra_webhook_admission_duration_seconds_bucket/);
    expect(logs.some((l) => l.msg === "admission request rejected")).toBe(true);
  });
});
