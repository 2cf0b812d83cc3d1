// Shared by the benches that serve credentials from a certificate: the built emulator with a trust
// anchor, a profile and one role bound to the OU "bench", and a leaf certificate and key (0600) for
// it in a fresh temporary directory. Needs the builds (packages/emulator, packages/core).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Starts the emulator and sets up Roles Anywhere in it; `close()` stops it and removes the directory.
 * @param {string} name  names the temporary directory (`iam-ra-bench-<name>-…`)
 */
export async function startWorld(name) {
  const { startEmulator, setUpRolesAnywhere, createBoundTrustPolicy } = await import(
    join(root, "packages/emulator/dist/index.js")
  ).catch(() => {
    console.error("bench: build first: npx -y pnpm@10.34.9 -r run build");
    process.exit(2);
  });
  const { createTestPki } = await import(join(root, "packages/core/dist/testing/index.js"));
  const dir = mkdtempSync(join(tmpdir(), `iam-ra-bench-${name}-`));
  const emu = await startEmulator();
  try {
    const pki = await createTestPki();
    const leaf = await pki.issueLeaf({ subject: "CN=bench,OU=bench", issuer: "root" });
    const certificate = join(dir, "cert.pem");
    const privateKey = join(dir, "key.pem");
    writeFileSync(certificate, leaf.certificatePem);
    writeFileSync(privateKey, leaf.privateKeyPem, { mode: 0o600 });
    const roleArn = "arn:aws:iam::123456789012:role/bench";
    const { trustAnchorArn, profileArn } = await setUpRolesAnywhere(emu, {
      caCertificatePem: pki.root.certificatePem,
      roles: [{ roleArn, trustPolicy: createBoundTrustPolicy("bench") }],
    });
    return {
      dir,
      emu,
      certificate,
      privateKey,
      trustAnchorArn,
      profileArn,
      roleArn,
      /** The environment that configures the sidecar (and `iam-ra serve`) for this world. */
      serverEnv(logLevel) {
        return {
          IAM_RA_CERTIFICATE: certificate,
          IAM_RA_PRIVATE_KEY: privateKey,
          IAM_RA_TRUST_ANCHOR_ARN: trustAnchorArn,
          IAM_RA_PROFILE_ARN: profileArn,
          IAM_RA_ROLE_ARN: roleArn,
          IAM_RA_ENDPOINT: emu.url,
          IAM_RA_PORT: "0",
          IAM_RA_TOKEN_FILE: join(dir, "token"),
          IAM_RA_LOG_LEVEL: logLevel,
        };
      },
      async close() {
        await emu.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
