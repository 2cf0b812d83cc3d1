import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretDir, createWorld, eventually, ROLE_ARN, type World } from "./helpers.ts";

const exec = promisify(execFile);
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const HERE = fileURLToPath(new URL("..", import.meta.url));

let world: World;
let secret: ReturnType<typeof createSecretDir>;
let work: string;
let sidecar: ChildProcess;
let url: string;
let tokenFile: string;
let stderr = "";
let firstSerial: string;

/** A clean environment: no real AWS config or credentials can leak into a stock client. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, LANG: "C.UTF-8" };
  return {
    ...env,
    AWS_CONFIG_FILE: join(work, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    ...extra,
  };
}

const containerEnv = () =>
  cleanEnv({
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `${url}/v1/credentials`,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
  });
const imdsEnv = () =>
  cleanEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: url, AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv4" });

/** The AWS SDK for JavaScript v3 with its default credential chain: zero iam-ra code. */
async function jsSdkArn(env: NodeJS.ProcessEnv): Promise<string> {
  const script = `
    import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
    const sts = new STSClient({ endpoint: process.argv[1] });
    const id = await sts.send(new GetCallerIdentityCommand({}));
    process.stdout.write(id.Arn);`;
  const { stdout } = await exec(process.execPath, ["--input-type=module", "-e", script, world.emu.url], {
    cwd: HERE,
    env,
  });
  return stdout;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "iam-ra-sidecar-proc-"));
  tokenFile = join(work, "token");
  world = await createWorld();
  secret = createSecretDir();
  const leaf = await world.issue();
  firstSerial = leaf.serialHex;
  secret.publish({ "tls.crt": leaf.certificatePem, "tls.key": leaf.privateKeyPem });
  // The bundle alone, away from any node_modules, as the image holds it (/app/main.js).
  const image = join(work, "app");
  mkdirSync(image);
  copyFileSync(MAIN, join(image, "main.js"));
  // Configured the way the Deployment does it: environment variables only.
  sidecar = spawn(process.execPath, [join(image, "main.js")], {
    cwd: image,
    env: {
      PATH: process.env.PATH,
      IAM_RA_CERTIFICATE: secret.certificate,
      IAM_RA_PRIVATE_KEY: secret.privateKey,
      IAM_RA_TRUST_ANCHOR_ARN: world.trustAnchorArn,
      IAM_RA_PROFILE_ARN: world.profileArn,
      IAM_RA_ROLE_ARN: ROLE_ARN,
      IAM_RA_ENDPOINT: world.emu.url,
      IAM_RA_PORT: "0",
      IAM_RA_TOKEN_FILE: tokenFile,
      IAM_RA_IMDS: "true",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  sidecar.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  url = await eventually(async () => {
    const line = stderr.split("\n").find((l) => l.includes('"msg":"serving"'));
    return line ? (JSON.parse(line).url as string) : undefined;
  });
  await eventually(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined));
}, 30_000);

afterAll(async () => {
  if (sidecar && sidecar.exitCode === null) {
    sidecar.kill("SIGKILL");
  }
  await world?.emu.close();
  secret?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe("stock clients against the sidecar process (zero app changes)", () => {
  it("created the token file 0600 with a random token", () => {
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(tokenFile, "utf8").trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("AWS SDK JS default chain, container credentials", async () => {
    expect(await jsSdkArn(containerEnv())).toBe(
      `arn:aws:sts::123456789012:assumed-role/sidecar-app/${firstSerial}`,
    );
  });

  it("AWS SDK JS default chain, IMDSv2", async () => {
    expect(await jsSdkArn(imdsEnv())).toMatch(/assumed-role\/sidecar-app\//);
  });

  it("boto3, container credentials and IMDSv2", async () => {
    const script = `import boto3,sys;print(boto3.client("sts",endpoint_url=sys.argv[1]).get_caller_identity()["Arn"])`;
    for (const env of [containerEnv(), imdsEnv()]) {
      const { stdout } = await exec("python3", ["-c", script, world.emu.url], { env });
      expect(stdout.trim()).toMatch(/assumed-role\/sidecar-app\//);
    }
  });

  it("aws CLI, container credentials", async () => {
    const { stdout } = await exec(
      "aws",
      ["sts", "get-caller-identity", "--endpoint-url", world.emu.url, "--output", "json"],
      { env: containerEnv() },
    );
    expect(JSON.parse(stdout).Arn).toMatch(/assumed-role\/sidecar-app\//);
  });

  it("a wrong token is refused by the sidecar, so the SDK fails", async () => {
    const bad = join(work, "bad-token");
    writeFileSync(bad, "not-the-token-at-all-000000000000000");
    await expect(
      jsSdkArn(
        cleanEnv({
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${url}/v1/credentials`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: bad,
        }),
      ),
    ).rejects.toThrow();
  });

  it("rotation of the mounted Secret reaches the next credentials within seconds", async () => {
    const next = await world.issue();
    secret.publish({ "tls.crt": next.certificatePem, "tls.key": next.privateKeyPem });
    const arn = await eventually(async () => {
      const a = await jsSdkArn(containerEnv());
      return a.endsWith(next.serialHex) ? a : undefined;
    }, 15_000);
    expect(arn).toBe(`arn:aws:sts::123456789012:assumed-role/sidecar-app/${next.serialHex}`);
  });

  it("the image's HEALTHCHECK command: exit 0 while serving, 1 when nothing listens", async () => {
    const port = new URL(url).port;
    await expect(
      exec(process.execPath, [MAIN, "healthcheck"], { env: { IAM_RA_PORT: port } }),
    ).resolves.toBeDefined();
    const closed = await exec(process.execPath, [MAIN, "healthcheck"], { env: { IAM_RA_PORT: "1" } }).catch(
      (e) => e,
    );
    expect(closed.code).toBe(1);
  });

  it("logs are JSON lines without secrets; SIGTERM exits 0", async () => {
    const creds = JSON.parse(
      await (
        await fetch(`${url}/v1/credentials`, {
          headers: { authorization: readFileSync(tokenFile, "utf8").trim() },
        })
      ).text(),
    );
    sidecar.kill("SIGTERM");
    const [code] = await once(sidecar, "exit");
    expect(code).toBe(0);
    const lines = stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ msg: "shutting down", signal: "SIGTERM" });
    for (const s of [creds.SecretAccessKey, creds.Token, readFileSync(tokenFile, "utf8").trim()])
      expect(stderr).not.toContain(s);
  });
});

describe("bad configuration", () => {
  it("exits 1 with one clear line and a hint, no stack trace", async () => {
    const result = await exec(process.execPath, [MAIN, "--imds"], { env: { PATH: process.env.PATH } }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((result as { code: number }).code).toBe(1);
    expect((result as { stderr: string }).stderr).toBe(
      "iam-ra-sidecar: No certificate was given.\n  hint: Pass --certificate (or set IAM_RA_CERTIFICATE).\n",
    );
    const unknown = await exec(process.execPath, [MAIN, "--bogus"]).catch((e: { stderr: string }) => e);
    expect((unknown as { stderr: string }).stderr).toMatch(
      /^iam-ra-sidecar: Unknown option '--bogus'.*\n {2}hint:/s,
    );
  });
});
