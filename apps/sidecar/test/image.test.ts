import { execFile, execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createSecretVolume, createSoftHsm, freePort, hasSoftHsm } from "@iam-ra/core/testing";
import { issueCertificateForKey } from "@iam-ra/core/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a build script (plain JavaScript), imported for its one recipe
import { buildImage } from "../scripts/image.mjs";
import { createWorld, eventually, ROLE_ARN, type World } from "./helpers.ts";

// The image, built from scratch by the one recipe (scripts/image.mjs) and run with podman as a
// cluster would: read-only, no capabilities, non-root, host network. A stock SDK on the host gets
// credentials from it (against the emulator), its HEALTHCHECK passes, a rotation through the mounted
// directory is picked up, and SIGTERM stops it cleanly. The arm64 image is built, not run.

const exec = promisify(execFile);
const HERE = fileURLToPath(new URL("..", import.meta.url));
const has = (tool: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const isRoot = process.getuid?.() === 0;
const available = has("podman") && has("runc") && has("apt-get") && isRoot;
// Required in this project's CI (.ci/run, root on Debian); GitHub's Ubuntu runners build the image in
// the release workflow instead.
const required = Boolean(process.env.CI) && !process.env.GITHUB_ACTIONS;
if (!available && required)
  throw new Error(
    "CI needs podman, runc (apt-get install podman buildah runc uidmap) and root for the image test",
  );
const foreign = available
  ? execFileSync("dpkg", ["--print-foreign-architectures"]).toString().split("\n").includes("arm64")
  : false;
if (available && !foreign && required)
  throw new Error("CI needs Debian's arm64 packages: dpkg --add-architecture arm64 && apt-get update");

const TAG = `localhost/iam-ra-sidecar:test-${process.pid}`;
const NAME = `iam-ra-sidecar-test-${process.pid}`;
let work: string;
let world: World;
let built: {
  out: string;
  version: string;
  results: Array<{ arch: string; bytes: number; sbom: string; pkcs11: boolean }>;
};
const env = () => ({ ...process.env, CONTAINERS_CONF: join(work, "containers.conf") });
const podman = async (args: string[]) =>
  (await exec("podman", ["--runtime", "runc", ...args], { env: env(), maxBuffer: 16 << 20 })).stdout.trim();

describe.skipIf(!available)("the sidecar image, built from scratch and run with podman", () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "iam-ra-image-"));
    chmodSync(work, 0o755);
    // This host's cgroups refuse podman's default ulimits (see ../../shared TOOLCHAIN notes).
    writeFileSync(join(work, "containers.conf"), "[containers]\ndefault_ulimits = []\n");
    process.env.CONTAINERS_CONF = join(work, "containers.conf");
    built = await buildImage({
      archs: foreign ? ["amd64", "arm64"] : ["amd64"],
      tag: TAG,
      out: join(work, "build"),
    });
    world = await createWorld();
  }, 600_000);

  afterAll(async () => {
    await podman(["rm", "-f", NAME]).catch(() => {});
    for (const tag of [TAG, `${TAG}-amd64`, `${TAG}-arm64`]) await podman(["rmi", "-f", tag]).catch(() => {});
    await world?.emu.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const amd64Tag = () => (built.results.length > 1 ? `${TAG}-amd64` : TAG);

  it("is small, labelled, non-root, and lists what it holds in an SBOM", async () => {
    const [inspect] = JSON.parse(await podman(["image", "inspect", amd64Tag()])) as Array<{
      Size: number;
      Architecture: string;
      Healthcheck?: { Test: string[] };
      Config: { User: string; Labels: Record<string, string>; Entrypoint: string[] };
    }>;
    expect(inspect!.Architecture).toBe("amd64");
    expect(inspect!.Size).toBeLessThan(140 * 1024 * 1024);
    console.log(`image size: ${(inspect!.Size / 1024 / 1024).toFixed(1)} MiB (amd64)`);
    expect(inspect!.Config.User).toBe("1000:1000");
    expect(inspect!.Config.Entrypoint).toEqual(["node", "/app/main.js"]);
    expect(inspect!.Healthcheck?.Test).toEqual(["CMD", "node", "/app/main.js", "healthcheck"]);
    expect(inspect!.Config.Labels).toMatchObject({
      "org.opencontainers.image.title": "iam-ra-sidecar",
      "org.opencontainers.image.version": built.version,
      "org.opencontainers.image.licenses": "Apache-2.0",
      "org.opencontainers.image.source": expect.stringMatching(/^https:\/\//),
      "org.opencontainers.image.revision": expect.stringMatching(/^[0-9a-f]{40}$|^unknown$/),
    });
    for (const { arch, sbom, pkcs11 } of built.results) {
      const doc = JSON.parse(readFileSync(sbom, "utf8")) as {
        spdxVersion: string;
        packages: Array<{ name: string }>;
      };
      expect(doc.spdxVersion).toBe("SPDX-2.3");
      const names = doc.packages.map((p) => p.name);
      expect(names, arch).toEqual(
        expect.arrayContaining([
          "@iam-ra/sidecar",
          `node-linux-${arch === "amd64" ? "x64" : "arm64"}`,
          "libc6",
          "libstdc++6",
          "ca-certificates",
          "prom-client",
          "@peculiar/x509",
        ]),
      );
      // The PKCS#11 binding is a Node-API addon built on this host, so only the host's architecture has it.
      expect(pkcs11, arch).toBe(arch === (process.arch === "arm64" ? "arm64" : "amd64"));
      if (pkcs11) expect(names, arch).toContain("pkcs11js");
    }
    if (required) expect(built.results.map((r) => r.arch)).toEqual(["amd64", "arm64"]);
    if (built.results.length > 1) {
      const [arm] = JSON.parse(await podman(["image", "inspect", `${TAG}-arm64`])) as Array<{
        Architecture: string;
      }>;
      expect(arm!.Architecture).toBe("arm64");
    }
  });

  it("serves a stock SDK, passes its HEALTHCHECK, picks up a rotation, and stops cleanly on SIGTERM", async () => {
    // The certificate volume as the kubelet lays it out (..data swap), readable by the image's user.
    const volume = createSecretVolume({ mode: 0o644 });
    chmodSync(volume.dir, 0o755);
    const first = await world.issue();
    volume.publish({ "tls.crt": first.certificatePem, "tls.key": first.privateKeyPem });
    const tokenDir = join(work, "token");
    mkdirSync(tokenDir, { mode: 0o700 });
    chownSync(tokenDir, 1000, 1000);
    const port = await freePort();
    try {
      await podman([
        "run",
        "-d",
        "--name",
        NAME,
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--network",
        "host",
        "-v",
        `${volume.dir}:/var/run/iam-ra/certificate:ro`,
        "-v",
        `${tokenDir}:/var/run/iam-ra/token`,
        "-e",
        "IAM_RA_CERTIFICATE=/var/run/iam-ra/certificate/tls.crt",
        "-e",
        "IAM_RA_PRIVATE_KEY=/var/run/iam-ra/certificate/tls.key",
        "-e",
        `IAM_RA_TRUST_ANCHOR_ARN=${world.trustAnchorArn}`,
        "-e",
        `IAM_RA_PROFILE_ARN=${world.profileArn}`,
        "-e",
        `IAM_RA_ROLE_ARN=${ROLE_ARN}`,
        "-e",
        `IAM_RA_ENDPOINT=${world.emu.url}`,
        "-e",
        `IAM_RA_PORT=${port}`,
        "-e",
        "IAM_RA_TOKEN_FILE=/var/run/iam-ra/token/token",
        amd64Tag(),
      ]);
      const url = `http://127.0.0.1:${port}`;
      await eventually(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 30_000);
      expect(await podman(["inspect", NAME, "--format", "{{.Config.User}}"])).toBe("1000:1000");
      // The image's HEALTHCHECK, as the engine runs it.
      await podman(["healthcheck", "run", NAME]);
      // Token keys: the optional PKCS#11 binding resolves from /app the way the bundle imports it.
      const pkcs11 =
        "const { PKCS11 } = (await import('pkcs11js')).default; new PKCS11(); process.stdout.write('ok')";
      expect(await podman(["exec", "-w", "/app", NAME, "node", "--input-type=module", "-e", pkcs11])).toBe(
        "ok",
      );
      // A stock AWS SDK on the host: container credentials with the token the sidecar wrote.
      const arn = async () => {
        const script = `import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
const sts = new STSClient({ endpoint: process.argv[1] });
process.stdout.write((await sts.send(new GetCallerIdentityCommand({}))).Arn);`;
        const { stdout } = await exec(
          process.execPath,
          ["--input-type=module", "-e", script, world.emu.url],
          {
            cwd: HERE,
            env: {
              PATH: process.env.PATH,
              HOME: work,
              AWS_CONFIG_FILE: join(work, "none"),
              AWS_SHARED_CREDENTIALS_FILE: join(work, "none"),
              AWS_REGION: "us-east-1",
              AWS_CONTAINER_CREDENTIALS_FULL_URI: `${url}/v1/credentials`,
              AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(tokenDir, "token"),
            },
          },
        );
        return stdout;
      };
      expect(await arn()).toMatch(new RegExp(`assumed-role/sidecar-app/${first.serialHex}$`));
      // cert-manager renews: a new pair swapped in under ..data; the sidecar mints with it at once.
      const next = await world.issue();
      volume.publish({ "tls.crt": next.certificatePem, "tls.key": next.privateKeyPem });
      await eventually(async () => ((await arn()).endsWith(next.serialHex) ? true : undefined), 30_000);
      // SIGTERM: in-flight requests finish, exit 0, well within the grace period.
      const started = Date.now();
      await podman(["stop", "-t", "10", NAME]);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(await podman(["inspect", NAME, "--format", "{{.State.ExitCode}}"])).toBe("0");
    } catch (error) {
      const logs = await podman(["logs", NAME]).catch(() => "");
      throw new Error(`${(error as Error).message}\ncontainer logs:\n${logs}`);
    } finally {
      await podman(["rm", "-f", NAME]).catch(() => {});
      volume.cleanup();
    }
  }, 180_000);

  // Required in CI (SoftHSM is installed there); elsewhere it needs SoftHSM and an amd64 host.
  it.skipIf(!required && (!hasSoftHsm() || process.arch !== "x64"))(
    "signs with a key in a PKCS#11 token through the pkcs11js it carries",
    async () => {
      // SoftHSM stands in for a vendor's token: its module and the one library it adds (libcrypto) are
      // mounted read-only; its store is mounted at the same path, since its configuration names it.
      const hsm = createSoftHsm();
      const store = dirname(hsm.conf);
      const name = `${NAME}-p11`;
      try {
        hsm.initToken("sidecar", "424242");
        const publicKey = hsm.generateKey("sidecar", "424242", {
          keyType: "EC:prime256v1",
          label: "app",
          id: "01",
        });
        const { certificatePem } = await issueCertificateForKey(
          {
            subject: "CN=app,OU=sidecar",
            issuer: world.pki.root,
            notBefore: new Date(Date.now() - 86_400_000),
            notAfter: new Date(Date.now() + 86_400_000),
          },
          publicKey,
        );
        writeFileSync(join(store, "app.pem"), certificatePem);
        execFileSync("chown", ["-R", "1000:1000", store]);
        const lib = join(work, "p11");
        mkdirSync(lib, { recursive: true });
        copyFileSync(realpathSync(hsm.module), join(lib, "libsofthsm2.so"));
        copyFileSync(realpathSync("/lib/x86_64-linux-gnu/libcrypto.so.3"), join(lib, "libcrypto.so.3"));
        chmodSync(lib, 0o755);
        const port = await freePort();
        await podman([
          "run",
          "-d",
          "--name",
          name,
          "--read-only",
          "--cap-drop",
          "ALL",
          "--network",
          "host",
          "-v",
          `${lib}:/opt/pkcs11:ro`,
          "-v",
          `${store}:${store}`,
          "-e",
          "LD_LIBRARY_PATH=/opt/pkcs11",
          "-e",
          `SOFTHSM2_CONF=${hsm.conf}`,
          "-e",
          "IAM_RA_PKCS11_LIB=/opt/pkcs11/libsofthsm2.so",
          "-e",
          "IAM_RA_PKCS11_PIN=424242",
          "-e",
          `IAM_RA_TOKEN_FILE=${join(store, "token")}`,
          "-e",
          `IAM_RA_CERTIFICATE=${join(store, "app.pem")}`,
          "-e",
          "IAM_RA_PRIVATE_KEY=pkcs11:token=sidecar;object=app;type=private",
          "-e",
          `IAM_RA_TRUST_ANCHOR_ARN=${world.trustAnchorArn}`,
          "-e",
          `IAM_RA_PROFILE_ARN=${world.profileArn}`,
          "-e",
          `IAM_RA_ROLE_ARN=${ROLE_ARN}`,
          "-e",
          `IAM_RA_ENDPOINT=${world.emu.url}`,
          "-e",
          `IAM_RA_PORT=${port}`,
          amd64Tag(),
        ]);
        // Ready means the first credentials were minted, with a signature made inside the token.
        await eventually(async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          return res?.ok ? true : undefined;
        }, 30_000);
        const res = await fetch(`http://127.0.0.1:${port}/v1/credentials`, {
          headers: { Authorization: readFileSync(join(store, "token"), "utf8").trim() },
        });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({
          AccessKeyId: expect.any(String),
          Token: expect.any(String),
        });
        await podman(["stop", "-t", "10", name]);
        expect(await podman(["inspect", name, "--format", "{{.State.ExitCode}}"])).toBe("0");
      } catch (error) {
        const logs = [
          await podman([
            "inspect",
            name,
            "--format",
            "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}",
          ]).catch((e) => String(e)),
          await podman(["logs", name]).catch((e) => String(e)),
        ].join("\n");
        throw new Error(`${(error as Error).message}\ncontainer logs:\n${logs}`);
      } finally {
        await podman(["rm", "-f", name]).catch(() => {});
        hsm.cleanup();
      }
    },
    120_000,
  );
});
