import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createNodeTransport, createSession } from "@iam-ra/core/rolesanywhere";
import { createTestPki, FixedClock } from "@iam-ra/core/testing";
import { parseCredentialMaterial } from "@iam-ra/core/x509";
import { describe, expect, it, onTestFinished } from "vitest";
import { startEmulator } from "../src/server.ts";
import { createBoundTrustPolicy } from "../src/setup.ts";
import { createEmulatorTls } from "../src/tls.ts";
import { controlPlaneOverTls } from "./harness.ts";

const exec = promisify(execFile);
const _CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const _PACKAGE = fileURLToPath(new URL("..", import.meta.url));

// https, for clients that speak nothing else: an independent client (Python's botocore, verifying
// against the CA the emulator hands out) and core's own client with that CA as its bundle.
describe("the emulator over https", () => {
  it("serves botocore and core's client, both trusting only the CA it made", async () => {
    const tls = await createEmulatorTls();
    const clock = new FixedClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    const emu = await startEmulator({ tls, clock });
    onTestFinished(() => emu.close());
    expect(emu.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // The control plane over https too, trusting only that CA.
    const call = (path: string, body: unknown) =>
      controlPlaneOverTls(emu.url, tls.caCertificatePem, path, body);
    const pki = await createTestPki({ at: clock.now() });
    const { trustAnchor } = await call("/trustanchors", {
      name: "tls",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.root.certificatePem },
      },
    });
    const roleArn = "arn:aws:iam::123456789012:role/tls";
    const { profile } = await call("/profiles", { name: "tls", enabled: true, roleArns: [roleArn] });
    emu.putRole(roleArn, createBoundTrustPolicy("readers"));
    const w = {
      emu,
      trustAnchorArn: trustAnchor.trustAnchorArn as string,
      pki,
      clock,
      params: {
        trustAnchorArn: trustAnchor.trustAnchorArn as string,
        profileArn: profile.profileArn as string,
        roleArn,
      },
    };
    const dir = mkdtempSync(join(tmpdir(), "iam-ra-emu-tls-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "ca.pem"), tls.caCertificatePem);
    const script = join(dir, "list.py");
    writeFileSync(
      script,
      [
        "import sys, boto3",
        "c = boto3.client('rolesanywhere', endpoint_url=sys.argv[1], region_name='us-east-1', verify=sys.argv[2],",
        "                 aws_access_key_id='AKIDEXAMPLE', aws_secret_access_key='secret')",
        "print(c.list_trust_anchors()['trustAnchors'][0]['trustAnchorArn'])",
        "",
      ].join("\n"),
    );
    const { stdout } = await exec("python3", [script, w.emu.url, join(dir, "ca.pem")]);
    expect(stdout.trim()).toBe(w.trustAnchorArn);
    // Without the CA, botocore refuses the certificate: TLS is real.
    await expect(exec("python3", [script, w.emu.url, "/etc/ssl/certs/ca-certificates.crt"])).rejects.toThrow(
      /SSL|certificate/i,
    );
    const leaf = await w.pki.issueLeaf();
    const material = await parseCredentialMaterial({
      certificate: leaf.certificatePem,
      privateKey: leaf.privateKeyPem,
      intermediates: w.pki.intermediate.certificatePem,
    });
    const session = await createSession(material, w.params, {
      endpoint: w.emu.url,
      clock: w.clock,
      maxAttempts: 1,
      transport: createNodeTransport({ ca: tls.caCertificatePem }),
    });
    expect(session.credentials.accessKeyId).toMatch(/^ASIA/);
  });
});
