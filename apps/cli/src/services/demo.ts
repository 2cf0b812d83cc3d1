import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CreateProfileCommand,
  CreateTrustAnchorCommand,
  RolesAnywhereClient,
} from "@aws-sdk/client-rolesanywhere";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { createSelfSignedCa, issueCertificate } from "@iam-ra/core/x509";
import { startEmulator } from "@iam-ra/emulator";

const run = promisify(execFile);

/** One step of the demo, as printed and as returned with --json. */
export interface DemoStep {
  step: string;
  ok: boolean;
  detail: string;
}

export interface DemoResult {
  emulatorUrl: string;
  workDir: string | undefined;
  steps: DemoStep[];
  callerArn: string;
}

export interface DemoOptions {
  /** `node` and the path of the iam-ra bin, to build the credential_process line. */
  nodePath: string;
  binPath: string;
  keep: boolean;
  /** Called as each step finishes. */
  onStep: (step: DemoStep) => void;
  /** The environment to hand to child processes (the aws CLI). */
  env: NodeJS.ProcessEnv;
  /** Runs `fn` with AWS_* variables pointing at the demo's throw-away files. */
  withAwsEnv: <T>(vars: Record<string, string>, fn: () => Promise<T>) => Promise<T>;
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, "\\$1")}"`);

/** The whole flow on a local emulator: CA → trust anchor → profile → role → certificate → stock clients. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const steps: DemoStep[] = [];
  const record = (step: string, detail: string, ok = true) => {
    const s = { step, ok, detail };
    steps.push(s);
    options.onStep(s);
  };
  const dir = await mkdtemp(join(tmpdir(), "iam-ra-demo-"));
  const emu = await startEmulator();
  try {
    record("Start the Roles Anywhere emulator", emu.url);
    const now = new Date();
    const day = 86_400_000;
    const ca = await createSelfSignedCa({
      subject: "CN=iam-ra demo CA,O=iam-ra demo",
      notBefore: new Date(now.getTime() - day),
      notAfter: new Date(now.getTime() + 365 * day),
    });
    await writeFile(join(dir, "ca.pem"), ca.certificatePem);
    record(
      "Create a CA (EC P-256)",
      `${join(dir, "ca.pem")} — ${ca.certificate.subject.replace(/\n/g, ", ")}`,
    );

    const admin = new RolesAnywhereClient({
      region: emu.region,
      endpoint: emu.url,
      credentials: { accessKeyId: "AKIDDEMO", secretAccessKey: "demo" },
      maxAttempts: 1,
    });
    const { trustAnchor } = await admin.send(
      new CreateTrustAnchorCommand({
        name: "demo-anchor",
        enabled: true,
        source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: ca.certificatePem } },
      }),
    );
    record("Create a trust anchor for the CA", trustAnchor!.trustAnchorArn!);

    const roleArn = `arn:aws:iam::${emu.accountId}:role/demo-reader`;
    const otherRoleArn = `arn:aws:iam::${emu.accountId}:role/demo-admin`;
    const trustPolicy = (ou: string) => ({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "rolesanywhere.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
          Condition: {
            StringEquals: { "aws:PrincipalTag/x509Subject/OU": ou },
            ArnEquals: { "aws:SourceArn": trustAnchor!.trustAnchorArn! },
          },
        },
      ],
    });
    emu.putRole(roleArn, trustPolicy("demo-readers"));
    emu.putRole(otherRoleArn, trustPolicy("demo-admins"));
    record(
      "Create roles bound to certificate subjects",
      `${roleArn} trusts OU=demo-readers; ${otherRoleArn} trusts OU=demo-admins`,
    );

    const { profile } = await admin.send(
      new CreateProfileCommand({
        name: "demo-profile",
        enabled: true,
        roleArns: [roleArn, otherRoleArn],
        durationSeconds: 3600,
      }),
    );
    record("Create a profile listing both roles", profile!.profileArn!);

    const leaf = await issueCertificate({
      subject: "CN=demo-host,OU=demo-readers,O=iam-ra demo",
      issuer: ca,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + 30 * day),
      san: { dns: ["demo-host.example.internal"] },
    });
    await writeFile(join(dir, "client.pem"), leaf.certificatePem);
    await writeFile(join(dir, "client.key"), leaf.privateKeyPem, { mode: 0o600 });
    await chmod(join(dir, "client.key"), 0o600);
    record(
      "Issue a client certificate",
      `${join(dir, "client.pem")} (key 0600) — CN=demo-host, OU=demo-readers`,
    );

    const base = [
      quote(options.nodePath),
      quote(options.binPath),
      "credential-process",
      `--certificate ${quote(join(dir, "client.pem"))}`,
      `--private-key ${quote(join(dir, "client.key"))}`,
      `--trust-anchor-arn ${trustAnchor!.trustAnchorArn}`,
      `--profile-arn ${profile!.profileArn}`,
      `--endpoint ${emu.url}`,
      "--cache",
      `--cache-dir ${quote(join(dir, "cache"))}`,
    ].join(" ");
    const configPath = join(dir, "aws-config");
    await mkdir(join(dir, "cache"), { recursive: true, mode: 0o700 });
    await writeFile(
      configPath,
      [
        "[profile iam-ra-demo]",
        `credential_process = ${base} --role-arn ${roleArn}`,
        `region = ${emu.region}`,
        "",
        "[profile iam-ra-demo-admin]",
        `credential_process = ${base} --role-arn ${otherRoleArn}`,
        `region = ${emu.region}`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    await writeFile(join(dir, "aws-credentials"), "", { mode: 0o600 });
    record("Write a throw-away AWS config (your ~/.aws is not touched)", configPath);

    const awsEnv = {
      AWS_CONFIG_FILE: configPath,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "aws-credentials"),
      AWS_PROFILE: "iam-ra-demo",
    };
    const callerArn = await options.withAwsEnv(awsEnv, async () => {
      const sts = new STSClient({ region: emu.region, endpoint: emu.url, maxAttempts: 1 });
      const who = await sts.send(new GetCallerIdentityCommand({}));
      return who.Arn ?? "";
    });
    record(
      "AWS SDK for JavaScript (default credential chain → credential_process) calls sts:GetCallerIdentity",
      callerArn,
    );

    try {
      const { stdout } = await run(
        "aws",
        ["sts", "get-caller-identity", "--endpoint-url", emu.url, "--output", "json"],
        {
          env: { ...options.env, ...awsEnv },
          timeout: 60_000,
        },
      );
      record(
        "aws CLI (credential_process, cached) calls sts get-caller-identity",
        (JSON.parse(stdout) as { Arn: string }).Arn,
      );
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === "ENOENT") record("aws CLI", "not installed here; skipped");
      else throw new Error(`aws CLI failed: ${e.stderr?.split("\n").filter(Boolean).at(-1) ?? e.message}`);
    }

    const adminLine = `${base} --role-arn ${otherRoleArn}`;
    const refused = await run("/bin/sh", ["-c", adminLine], { env: options.env, timeout: 60_000 }).then(
      () => "",
      (e: { stderr?: string }) =>
        (e.stderr ?? "").split("\n").find((l) => l.startsWith("iam-ra:")) ?? "refused",
    );
    if (!refused)
      throw new Error(
        "the demo-readers certificate obtained the admin role; the trust policy binding failed",
      );
    record(
      "The same certificate cannot assume the admin role (trust policy binds the subject OU)",
      refused.trim(),
    );
    return { emulatorUrl: emu.url, workDir: options.keep ? dir : undefined, steps, callerArn };
  } finally {
    await emu.close();
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  }
}
