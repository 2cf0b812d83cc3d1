import { execFile } from "node:child_process";
import { createHash, createPublicKey, X509Certificate } from "node:crypto";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestPki } from "@iam-ra/core/testing";
import { type Emulator, startEmulator } from "@iam-ra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const BIN = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const ROLE = "arn:aws:iam::123456789012:role/ci-reader";

let emu: Emulator;
let dir: string;
let args: string[];

async function cp(extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return await exec(process.execPath, [BIN, "credential-process", ...extra], {
    env: { ...process.env, ...env },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

beforeAll(async () => {
  emu = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), "iam-ra-cli-"));
  const pki = await createTestPki();
  const leaf = await pki.issueLeaf({ subject: "CN=ci-host,OU=ci,O=tests", issuer: "root" });
  writeFileSync(join(dir, "cert.pem"), leaf.certificatePem);
  writeFileSync(join(dir, "key.pem"), leaf.privateKeyPem, { mode: 0o600 });
  const rotated = await pki.issueLeaf({ subject: "CN=ci-host,OU=ci,O=tests", issuer: "root" });
  writeFileSync(join(dir, "rotated-cert.pem"), rotated.certificatePem);
  writeFileSync(join(dir, "rotated-key.pem"), rotated.privateKeyPem, { mode: 0o600 });
  const other = await pki.issueLeaf({ issuer: "root" });
  writeFileSync(join(dir, "other-key.pem"), other.privateKeyPem, { mode: 0o600 });
  const call = async (path: string, body: unknown) =>
    (await (
      await fetch(`${emu.url}${path}`, {
        method: "POST",
        headers: {
          authorization:
            "AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=0",
        },
        body: JSON.stringify(body),
      })
    ).json()) as Record<string, Record<string, string>>;
  const ta = (
    await call("/trustanchors", {
      name: "ci",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.root.certificatePem },
      },
    })
  ).trustAnchor!;
  const profile = (await call("/profiles", { name: "ci", enabled: true, roleArns: [ROLE] })).profile!;
  emu.putRole(ROLE, {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "rolesanywhere.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        Condition: { StringEquals: { "aws:PrincipalTag/x509Subject/OU": "ci" } },
      },
    ],
  });
  args = [
    "--certificate",
    join(dir, "cert.pem"),
    "--private-key",
    join(dir, "key.pem"),
    "--trust-anchor-arn",
    ta.trustAnchorArn!,
    "--profile-arn",
    profile.profileArn!,
    "--role-arn",
    ROLE,
    "--endpoint",
    emu.url,
  ];
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("iam-ra credential-process", () => {
  it("prints exactly the credential_process document, no trailing newline", async () => {
    const r = await cp(args);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith("}")).toBe(true);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual([
      "Version",
      "AccessKeyId",
      "SecretAccessKey",
      "SessionToken",
      "Expiration",
    ]);
    expect(doc.Version).toBe(1);
  });

  it("the aws CLI gets a caller identity through it (a stock client as the oracle)", async () => {
    const config = join(dir, "aws-config");
    const line = [process.execPath, BIN, "credential-process", ...args]
      .map((a) => (a.includes(" ") ? `"${a}"` : a))
      .join(" ");
    writeFileSync(config, `[profile ci]\ncredential_process = ${line}\nregion = us-east-1\n`);
    const { stdout } = await exec(
      "aws",
      ["sts", "get-caller-identity", "--endpoint-url", emu.url, "--output", "json"],
      {
        env: {
          ...process.env,
          AWS_CONFIG_FILE: config,
          AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
          AWS_PROFILE: "ci",
        },
      },
    );
    expect(JSON.parse(stdout).Arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/ci-reader\/[0-9a-f]+$/);
  });

  it("boto3 gets a caller identity through it", async () => {
    const config = join(dir, "aws-config");
    const script = `import boto3,json;print(json.dumps(boto3.Session(profile_name="ci").client("sts",endpoint_url="${emu.url}").get_caller_identity()["Arn"]))`;
    const { stdout } = await exec("python3", ["-c", script], {
      env: { ...process.env, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(dir, "none") },
    });
    expect(JSON.parse(stdout)).toMatch(/assumed-role\/ci-reader\//);
  });

  it("--cache reuses credentials from a 0600 file instead of calling CreateSession again", async () => {
    const cacheDir = join(dir, "cache");
    const before = emu.state.sessions.length;
    const a = JSON.parse((await cp([...args, "--cache", "--cache-dir", cacheDir])).stdout);
    const b = JSON.parse((await cp([...args, "--cache", "--cache-dir", cacheDir])).stdout);
    expect(b.AccessKeyId).toBe(a.AccessKeyId);
    expect(emu.state.sessions.length).toBe(before + 1);
    const [file] = readdirSync(cacheDir);
    expect(statSync(join(cacheDir, file!)).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    // A different role is a different cache entry.
    const c = JSON.parse(
      (
        await cp([
          ...args.slice(0, -2),
          "--endpoint",
          emu.url,
          "--cache",
          "--cache-dir",
          cacheDir,
          "--session-duration",
          "900",
        ])
      ).stdout,
    );
    expect(c.AccessKeyId).not.toBe(a.AccessKeyId);
  });

  it("--cache never serves credentials minted for a certificate that was rotated since", async () => {
    const cacheDir = join(dir, "cache-rotation");
    const live = join(dir, "live");
    mkdirSync(live);
    copyFileSync(join(dir, "cert.pem"), join(live, "cert.pem"));
    copyFileSync(join(dir, "key.pem"), join(live, "key.pem"));
    const liveArgs = args.map((a) =>
      a === args[1] ? join(live, "cert.pem") : a === args[3] ? join(live, "key.pem") : a,
    );
    const first = JSON.parse((await cp([...liveArgs, "--cache", "--cache-dir", cacheDir])).stdout);
    // Rotate the way cert-manager or an admin script does: new files renamed over the old ones.
    copyFileSync(join(dir, "rotated-cert.pem"), join(live, "cert.pem.new"));
    copyFileSync(join(dir, "rotated-key.pem"), join(live, "key.pem.new"));
    renameSync(join(live, "key.pem.new"), join(live, "key.pem"));
    renameSync(join(live, "cert.pem.new"), join(live, "cert.pem"));
    const before = emu.state.sessions.length;
    const second = JSON.parse((await cp([...liveArgs, "--cache", "--cache-dir", cacheDir])).stdout);
    expect(second.AccessKeyId).not.toBe(first.AccessKeyId);
    expect(emu.state.sessions.length).toBe(before + 1);
    const entries = readdirSync(cacheDir).map((f) => JSON.parse(readFileSync(join(cacheDir, f), "utf8")));
    const der = new X509Certificate(readFileSync(join(live, "cert.pem"))).raw;
    expect(entries.map((e) => e.certificateSha256)).toContain(createHash("sha256").update(der).digest("hex"));
    // A third run is a hit on the new entry.
    const third = JSON.parse((await cp([...liveArgs, "--cache", "--cache-dir", cacheDir])).stdout);
    expect(third.AccessKeyId).toBe(second.AccessKeyId);
    expect(emu.state.sessions.length).toBe(before + 1);
  });

  it("--cache refuses a directory other users can write, and entries it did not write alone", async () => {
    const shared = join(dir, "cache-shared");
    mkdirSync(shared, { mode: 0o700 });
    chmodSync(shared, 0o777);
    const open = await cp([...args, "--cache", "--cache-dir", shared]);
    expect(open.code).toBe(1);
    expect(open.stdout).toBe("");
    expect(open.stderr).toMatch(/cache directory .* is writable by other users \(mode 777\)/);
    expect(open.stderr).not.toMatch(/\n\s+at /);

    const cacheDir = join(dir, "cache-planted");
    const first = await cp([...args, "--cache", "--cache-dir", cacheDir]);
    expect(first.code).toBe(0);
    const [entry] = readdirSync(cacheDir);
    const path = join(cacheDir, entry!);
    // Another user's entry (we run as root in CI, so plant it as "nobody"), then a world-readable one.
    if (process.getuid?.() === 0) {
      chownSync(path, 65534, 65534);
      const foreign = await cp([...args, "--cache", "--cache-dir", cacheDir]);
      expect(foreign.code).toBe(1);
      expect(foreign.stderr).toMatch(/belongs to another user \(uid 65534\); it is not trusted/);
      chownSync(path, 0, 0);
    }
    chmodSync(path, 0o644);
    const wide = await cp([...args, "--cache", "--cache-dir", cacheDir]);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toMatch(/readable or writable by others \(mode 644\)/);
    // A link planted where the entry goes is never followed.
    rmSync(path);
    symlinkSync(join(dir, "cert.pem"), path);
    const linked = await cp([...args, "--cache", "--cache-dir", cacheDir]);
    expect(linked.code).toBe(1);
    expect(linked.stderr).toMatch(/is a symlink; iam-ra does not follow links there/);
  });

  it("a cache entry that cannot be written is a warning: the credentials still print, no temp file stays", async () => {
    const blocked = join(dir, "cache-blocked");
    writeFileSync(blocked, "a file where the cache directory should be");
    const r = await cp([...args, "--cache", "--cache-dir", join(blocked, "sub")]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).AccessKeyId).toMatch(/^ASIA/);
    expect(r.stderr).toMatch(
      /^iam-ra: warning: the credentials were not cached \(.*\); the next call signs again\.\n$/,
    );
    expect(r.stderr).not.toContain(JSON.parse(r.stdout).SecretAccessKey);
    const cacheDir = join(dir, "cache-clean");
    await cp([...args, "--cache", "--cache-dir", cacheDir]);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("settings that change where credentials come from are part of the cache key", async () => {
    const cacheDir = join(dir, "cache-tls");
    const plain = JSON.parse((await cp([...args, "--cache", "--cache-dir", cacheDir])).stdout);
    const unverified = await cp([...args, "--cache", "--cache-dir", cacheDir, "--no-verify-ssl"]);
    expect(unverified.stderr).toMatch(/warning: TLS certificate verification is off/);
    expect(JSON.parse(unverified.stdout).AccessKeyId).not.toBe(plain.AccessKeyId);
    const viaEnv = await cp(
      [
        ...args.filter((a, i) => a !== "--endpoint" && args[i - 1] !== "--endpoint"),
        "--cache",
        "--cache-dir",
        cacheDir,
      ],
      {
        AWS_ENDPOINT_URL_ROLESANYWHERE: emu.url,
      },
    );
    expect(viaEnv.code).toBe(0);
    expect(readdirSync(cacheDir)).toHaveLength(3);
  });

  it("flags can come from IAM_RA_* environment variables", async () => {
    const r = await cp([], {
      IAM_RA_CERTIFICATE: args[1],
      IAM_RA_PRIVATE_KEY: args[3],
      IAM_RA_TRUST_ANCHOR_ARN: args[5],
      IAM_RA_PROFILE_ARN: args[7],
      IAM_RA_ROLE_ARN: args[9],
      IAM_RA_ENDPOINT: args[11],
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).Version).toBe(1);
  });

  it.each([
    [
      "a missing role ARN",
      (a: string[]) => a.filter((_, i) => i !== 8 && i !== 9),
      /role ARN is missing/,
      /--role-arn/,
    ],
    [
      "a malformed trust anchor ARN",
      (a: string[]) => a.map((x, i) => (i === 5 ? "arn:nope" : x)),
      /not a valid trust-anchor ARN/,
      /looks like/,
    ],
    [
      "a key that is not the certificate's",
      (a: string[]) => a.map((x, i) => (i === 3 ? join(dir, "other-key.pem") : x)),
      /does not belong to the certificate/,
      /hint/,
    ],
    [
      "a missing certificate file",
      (a: string[]) => a.map((x, i) => (i === 1 ? join(dir, "missing.pem") : x)),
      /does not exist/,
      /path/,
    ],
    [
      "an out-of-range duration",
      (a: string[]) => [...a, "--session-duration", "60"],
      /900–43200/,
      /--session-duration/,
    ],
    ["an unknown flag", (a: string[]) => [...a, "--pkcs8-password", "x"], /Unknown option/, /--help/],
  ])("%s: one clear line, exit 1, no stack, no secrets", async (_name, mutate, message, hint) => {
    const r = await cp(mutate(args));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(hint);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toMatch(/PRIVATE KEY|SecretAccessKey|SessionToken/);
  });

  it("a certificate outside the role's trust policy is refused with the reason", async () => {
    const r = await cp(args.map((x, i) => (i === 9 ? "arn:aws:iam::123456789012:role/not-in-profile" : x)));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not associated with the profile/);
  });
});

describe("iam-ra read-certificate-data and sign-string", () => {
  it("read-certificate-data --json gives the decimal serial", async () => {
    const { stdout } = await exec(process.execPath, [
      BIN,
      "read-certificate-data",
      "--certificate",
      join(dir, "cert.pem"),
      "--json",
    ]);
    const data = JSON.parse(stdout);
    expect(data.keyType).toBe("EC");
    expect(data.serialNumber).toMatch(/^\d+$/);
  });

  it("sign-string output verifies with openssl", async () => {
    const { stdout } = await exec(process.execPath, [
      BIN,
      "sign-string",
      "--certificate",
      join(dir, "cert.pem"),
      "--private-key",
      join(dir, "key.pem"),
      "--format",
      "text",
    ]);
    expect(stdout.trim()).toMatch(/^[0-9a-f]+$/);
    // Rebuild the helper's fixed message from its definition and let openssl verify.
    const pub = createPublicKey(readFileSync(join(dir, "cert.pem")));
    const jwk = pub.export({ format: "jwk" });
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, "base64url"),
      Buffer.from(jwk.y!, "base64url"),
    ]);
    const inner = createHash("sha256")
      .update(Buffer.concat([Buffer.from("IAM RA"), point]))
      .digest();
    writeFileSync(
      join(dir, "msg.bin"),
      Buffer.concat([Buffer.from("AWS Roles Anywhere Credential Helper Signing Test1"), inner]),
    );
    writeFileSync(join(dir, "sig.bin"), Buffer.from(stdout.trim(), "hex"));
    writeFileSync(join(dir, "pub.pem"), pub.export({ format: "pem", type: "spki" }));
    const verified = await exec("openssl", [
      "dgst",
      "-sha256",
      "-verify",
      join(dir, "pub.pem"),
      "-signature",
      join(dir, "sig.bin"),
      join(dir, "msg.bin"),
    ]);
    expect(verified.stdout).toMatch(/Verified OK/);
  });

  it("bad input to an oclif command: clear error, exit 2/1, no stack", async () => {
    const r = await exec(process.execPath, [
      BIN,
      "read-certificate-data",
      "--certificate",
      join(dir, "nope.pem"),
    ]).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.pem does not exist/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
