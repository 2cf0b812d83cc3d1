import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestPki } from "@iam-ra/core/testing";
import { createBoundTrustPolicy, type Emulator, setUpRolesAnywhere, startEmulator } from "@iam-ra/emulator";

export const exec = promisify(execFile);
export const BIN = fileURLToPath(new URL("../../bin/run.js", import.meta.url));
export const CLI_DIR = fileURLToPath(new URL("../..", import.meta.url));
export const ROLES = [
  "arn:aws:iam::123456789012:role/reader",
  "arn:aws:iam::123456789012:role/writer",
] as const;

/** A running emulator with a trust anchor, a profile listing {@link ROLES}, and a certificate for them. */
export interface Fixture {
  emu: Emulator;
  dir: string;
  /** A directory with a space in its name, holding cert.pem and key.pem. */
  certDir: string;
  trustAnchorArn: string;
  profileArn: string;
  /** Credential flags without --role-arn (certificate path contains a space). */
  flags: string[];
  close(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const emu = await startEmulator();
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-cli-files-"));
  const certDir = join(dir, "my certs");
  mkdirSync(certDir);
  const pki = await createTestPki();
  const leaf = await pki.issueLeaf({ subject: "CN=host-1,OU=hosts,O=tests", issuer: "root" });
  writeFileSync(join(certDir, "cert.pem"), leaf.certificatePem);
  writeFileSync(join(certDir, "key.pem"), leaf.privateKeyPem, { mode: 0o600 });
  const { trustAnchorArn, profileArn } = await setUpRolesAnywhere(emu, {
    caCertificatePem: pki.root.certificatePem,
    roles: ROLES.map((roleArn) => ({ roleArn, trustPolicy: createBoundTrustPolicy("hosts") })),
  });
  return {
    emu,
    dir,
    certDir,
    trustAnchorArn,
    profileArn,
    flags: [
      "--certificate",
      join(certDir, "cert.pem"),
      "--private-key",
      join(certDir, "key.pem"),
      "--trust-anchor-arn",
      trustAnchorArn,
      "--profile-arn",
      profileArn,
      "--endpoint",
      emu.url,
    ],
    close: async () => {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the CLI; never throws. `stderr` has oclif's line wrapping (`\n ›   `) undone. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const unwrap = (s: string) => s.replace(/\s*\n ›\s+/g, " ");
  return await exec(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: unwrap(r.stderr) }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: unwrap(e.stderr),
    }),
  );
}

/** The identity the stock `aws` CLI gets for a profile of the given files. */
export async function awsCallerArn(
  emu: Emulator,
  profile: string,
  files: { config: string; credentials: string },
) {
  const { stdout } = await exec(
    "aws",
    [
      "sts",
      "get-caller-identity",
      "--profile",
      profile,
      "--endpoint-url",
      emu.url,
      "--region",
      "us-east-1",
      "--output",
      "json",
    ],
    {
      env: { ...process.env, AWS_CONFIG_FILE: files.config, AWS_SHARED_CREDENTIALS_FILE: files.credentials },
    },
  );
  return (JSON.parse(stdout) as { Arn: string }).Arn;
}

/** The identity boto3 gets for a profile of the given files. */
export async function boto3CallerArn(
  emu: Emulator,
  profile: string,
  files: { config: string; credentials: string },
) {
  const script = `import boto3,json,sys;print(json.dumps(boto3.Session(profile_name=sys.argv[1],region_name="us-east-1").client("sts",endpoint_url=sys.argv[2]).get_caller_identity()["Arn"]))`;
  const { stdout } = await exec("python3", ["-c", script, profile, emu.url], {
    env: { ...process.env, AWS_CONFIG_FILE: files.config, AWS_SHARED_CREDENTIALS_FILE: files.credentials },
  });
  return JSON.parse(stdout) as string;
}

/** The identity the AWS SDK for JavaScript v3 (default provider chain) gets, in a child process. */
export async function jsSdkCallerArn(
  emu: Emulator,
  profile: string,
  files: { config: string; credentials: string },
) {
  const script = `import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
const c = new STSClient({ region: "us-east-1", endpoint: process.argv[1] });
process.stdout.write((await c.send(new GetCallerIdentityCommand({}))).Arn);`;
  const { stdout } = await exec(process.execPath, ["--input-type=module", "-e", script, emu.url], {
    cwd: CLI_DIR,
    env: {
      ...process.env,
      AWS_CONFIG_FILE: files.config,
      AWS_SHARED_CREDENTIALS_FILE: files.credentials,
      AWS_PROFILE: profile,
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
    },
  });
  return stdout;
}
