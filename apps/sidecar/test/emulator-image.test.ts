import { execFile, execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createSession } from "@iam-ra/core/rolesanywhere";
import { createTestPki, freePort } from "@iam-ra/core/testing";
import { parseCredentialMaterial } from "@iam-ra/core/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a build script (plain JavaScript), imported for its one recipe
import { buildImage } from "../scripts/image.mjs";

// The emulator image, built by the sidecar's recipe (--image emulator) and run as a CI service
// container would be: read-only, no capabilities, non-root, its state in a volume. boto3 sets it up,
// core's client gets credentials, and a new container on the same volume still has the set-up.

const exec = promisify(execFile);
const has = (tool: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const available = has("podman") && has("runc") && has("apt-get") && process.getuid?.() === 0;
const TAG = `localhost/iam-ra-emulator:test-${process.pid}`;
const NAME = `iam-ra-emulator-test-${process.pid}`;
const VOLUME = `iam-ra-emulator-test-${process.pid}`;
const ROLE = "arn:aws:iam::123456789012:role/ci";
let work: string;
let url: string;
let port: number;

const env = () => ({ ...process.env, CONTAINERS_CONF: join(work, "containers.conf") });
const podman = async (args: string[]) =>
  (await exec("podman", ["--runtime", "runc", ...args], { env: env(), maxBuffer: 16 << 20 })).stdout.trim();

async function runContainer(): Promise<void> {
  await podman([
    "run",
    "-d",
    "--name",
    NAME,
    "--read-only",
    "--cap-drop",
    "ALL",
    "--user",
    "1000:1000",
    "--network",
    "host",
    "-e",
    `IAM_RA_EMULATOR_PORT=${port}`,
    "-v",
    `${VOLUME}:/data`,
    TAG,
  ]);
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${url}/_emulator/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the emulator container did not answer: ${await podman(["logs", NAME]).catch(() => "")}`);
}

/** boto3, a stock client, against the container's control plane. */
async function boto3(code: string): Promise<string> {
  const script = join(work, "client.py");
  writeFileSync(
    script,
    [
      "import json, sys, boto3",
      `c = boto3.client('rolesanywhere', endpoint_url='${url}', region_name='us-east-1',`,
      "                 aws_access_key_id='AKIDEXAMPLE', aws_secret_access_key='secret')",
      code,
      "",
    ].join("\n"),
  );
  return (await exec("python3", [script])).stdout.trim();
}

describe.skipIf(!available)("the emulator image, built by the sidecar's recipe and run with podman", () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "iam-ra-emulator-image-"));
    chmodSync(work, 0o755);
    writeFileSync(join(work, "containers.conf"), "[containers]\ndefault_ulimits = []\n");
    await buildImage({ target: "emulator", archs: ["amd64"], tag: TAG, out: join(work, "build") });
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await podman(["volume", "create", VOLUME]);
  }, 600_000);

  afterAll(async () => {
    await podman(["rm", "-f", NAME]).catch(() => {});
    await podman(["volume", "rm", "-f", VOLUME]).catch(() => {});
    await podman(["rmi", "-f", TAG]).catch(() => {});
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("is non-root, read-only and healthy; serves CreateSession; keeps its state in the volume", async () => {
    const [inspect] = JSON.parse(await podman(["image", "inspect", TAG])) as Array<{
      Config: { User: string; Entrypoint: string[]; Labels: Record<string, string> };
    }>;
    expect(inspect!.Config.User).toBe("1000:1000");
    expect(inspect!.Config.Entrypoint).toEqual(["node", "/app/emulator.js"]);
    expect(inspect!.Config.Labels["org.opencontainers.image.title"]).toBe("iam-ra-emulator");

    await runContainer();
    await podman(["healthcheck", "run", NAME]);
    const pki = await createTestPki();
    const arns = JSON.parse(
      await boto3(
        [
          `ta = c.create_trust_anchor(name='ci', enabled=True, source={'sourceType': 'CERTIFICATE_BUNDLE',`,
          `  'sourceData': {'x509CertificateData': ${JSON.stringify(pki.root.certificatePem)}}})['trustAnchor']`,
          `p = c.create_profile(name='ci', enabled=True, roleArns=['${ROLE}'])['profile']`,
          "print(json.dumps([ta['trustAnchorArn'], p['profileArn']]))",
        ].join("\n"),
      ),
    ) as [string, string];
    const registered = await fetch(`${url}/_emulator/roles`, {
      method: "POST",
      body: JSON.stringify({
        roleArn: ROLE,
        trustPolicy: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "rolesanywhere.amazonaws.com" },
              Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            },
          ],
        },
      }),
    });
    expect(registered.ok).toBe(true);
    const leaf = await pki.issueLeaf({ issuer: "root" });
    const material = await parseCredentialMaterial({
      certificate: leaf.certificatePem,
      privateKey: leaf.privateKeyPem,
    });
    const session = await createSession(
      material,
      { trustAnchorArn: arns[0], profileArn: arns[1], roleArn: ROLE },
      { endpoint: url, maxAttempts: 1 },
    );
    expect(session.credentials.accessKeyId).toMatch(/^ASIA/);

    // SIGTERM stops it cleanly; a new container on the same volume has what the first one made.
    await podman(["stop", "-t", "10", NAME]);
    expect(await podman(["inspect", "-f", "{{.State.ExitCode}}", NAME])).toBe("0");
    await podman(["rm", NAME]);
    await runContainer();
    expect(await boto3("print(c.list_trust_anchors()['trustAnchors'][0]['trustAnchorArn'])")).toBe(arns[0]);
  }, 120_000);
});
