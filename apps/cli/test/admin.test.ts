import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, type CliResult, createCredentialProcess, createIamRa } from "./helpers/cli.ts";
import { type LocalAws, startLocalAws } from "./helpers/local-aws.ts";

const exec = promisify(execFile);

let aws: LocalAws;
let dir: string;

const iamRa = createIamRa(() => aws.env);

const credentials = createCredentialProcess(() => ({ env: aws.env, endpoint: aws.emu.url }));

beforeAll(async () => {
  aws = await startLocalAws();
  dir = mkdtempSync(join(tmpdir(), "iam-ra-admin-"));
}, 60_000);
afterAll(async () => {
  await aws?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("admin plane, end to end on moto + the emulator", () => {
  let roleA: CliResult["json"];
  let roleB: CliResult["json"];

  it("init creates the namespace; re-running changes nothing", async () => {
    const first = await iamRa(["init", "-n", "e2e"]);
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({
      outcome: "created",
      namespace: "e2e",
      region: "us-east-1",
      ca: { outcome: "created", mode: "self-signed" },
    });
    const again = await iamRa(["init", "-n", "e2e"]);
    expect(again.json).toMatchObject({
      outcome: "unchanged",
      ca: { outcome: "unchanged", trustAnchorArn: first.json.ca.trustAnchorArn },
    });
  }, 60_000);

  it("role create binds each role to its own certificates", async () => {
    roleA = (
      await iamRa([
        "role",
        "create",
        "app-a",
        "-n",
        "e2e",
        "--policy",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
      ])
    ).json;
    roleB = (await iamRa(["role", "create", "app-b", "-n", "e2e"])).json;
    expect(roleA).toMatchObject({
      outcome: "created",
      binding: { tag: "x509Subject/OU", value: "app-a" },
      roleArn: expect.stringMatching(/role\/iam-ra-e2e-app-a$/),
    });
    expect(roleB.profileArn).toMatch(/^arn:aws:rolesanywhere:us-east-1:123456789012:profile\//);
    const list = (await iamRa(["role", "list", "-n", "e2e"])).json;
    expect(list.items.map((i: { name: string }) => i.name).sort()).toEqual(["app-a", "app-b"]);
  }, 60_000);

  it("host onboard → credentials from the emulator; not for another role; revoke → refused", async () => {
    const out = join(dir, "web-1");
    const onboard = await iamRa([
      "host",
      "onboard",
      "web-1.example.com",
      "--role",
      "app-a",
      "-n",
      "e2e",
      "--output-dir",
      out,
    ]);
    expect(onboard.code).toBe(0);
    expect(onboard.json).toMatchObject({
      hostname: "web-1.example.com",
      role: "app-a",
      privateKeyGenerated: true,
      certificate: { keySource: "generated" },
    });
    expect(JSON.stringify(onboard.json)).not.toContain("PRIVATE KEY");
    expect(statSync(onboard.json.files.privateKey).mode & 0o777).toBe(0o600);
    const files = { certificate: onboard.json.files.certificate, privateKey: onboard.json.files.privateKey };
    const ok = await credentials(files, onboard.json);
    expect(ok).toMatchObject({ ok: true, doc: { Version: 1 } });
    // The host commands work as printed, on a "host" that has none of the admin's environment: only
    // iam-ra and the aws CLI on PATH, and an empty home.
    expect(onboard.json.files.chain).toBeNull();
    const host = mkdtempSync(join(dir, "host-"));
    const bin = join(host, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "iam-ra"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, {
      mode: 0o755,
    });
    const printed = await exec("sh", ["-c", onboard.json.config.shell], {
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: host },
    });
    expect(JSON.parse(printed.stdout.slice(printed.stdout.indexOf("{"))).Arn).toMatch(
      /assumed-role\/iam-ra-e2e-app-a\//,
    );
    // The same certificate cannot take role B (its trust policy wants OU=app-b).
    const other = await credentials(files, {
      trustAnchorArn: onboard.json.trustAnchorArn,
      profileArn: roleB.profileArn,
      roleArn: roleB.roleArn,
    });
    expect(other.ok).toBe(false);
    // doctor: all green for the right role; for role B it names the trust-policy condition that fails.
    const doctorArgs = (
      arns: { trustAnchorArn: string; profileArn: string; roleArn: string },
      key = files.privateKey,
    ) => [
      "doctor",
      "--certificate",
      files.certificate,
      "--private-key",
      key,
      "--trust-anchor-arn",
      arns.trustAnchorArn,
      "--profile-arn",
      arns.profileArn,
      "--role-arn",
      arns.roleArn,
      "--endpoint",
      aws.emu.url,
    ];
    const healthy = await iamRa(doctorArgs(onboard.json));
    expect(healthy.code).toBe(0);
    expect(healthy.json.ok).toBe(true);
    expect(healthy.json.checks.map((c: { id: string; ok: boolean }) => [c.id, c.ok])).toEqual([
      ["key-matches-certificate", true],
      ["certificate-validity", true],
      ["trust-anchor", true],
      ["chain-reaches-anchor", true],
      ["profile", true],
      ["role-in-profile", true],
      ["trust-policy", true],
      ["clock-skew", true],
      ["create-session", true],
    ]);
    const wrongRole = await iamRa(
      doctorArgs({
        trustAnchorArn: onboard.json.trustAnchorArn,
        profileArn: roleB.profileArn,
        roleArn: roleB.roleArn,
      }),
    );
    expect(wrongRole.code).toBe(1);
    const policy = wrongRole.json.checks.find((c: { id: string }) => c.id === "trust-policy");
    expect(policy).toMatchObject({
      ok: false,
      message: expect.stringMatching(/refuses this certificate/),
      fix: expect.stringMatching(/x509Subject\/OU=app-a/),
    });
    const otherKey = join(dir, "other.key");
    (await import("node:child_process")).execFileSync("openssl", [
      "ecparam",
      "-name",
      "prime256v1",
      "-genkey",
      "-noout",
      "-out",
      otherKey,
    ]);
    const badKey = await iamRa(doctorArgs(onboard.json, otherKey));
    expect(badKey.json.checks[0]).toMatchObject({
      id: "key-matches-certificate",
      ok: false,
      fix: expect.any(String),
    });

    const revoke = await iamRa(["host", "revoke", "web-1.example.com", "-n", "e2e", "--yes"]);
    expect(revoke.json).toMatchObject({ revoked: [onboard.json.certificate.serialNumber] });
    const refused = await credentials(files, onboard.json);
    expect(refused).toMatchObject({ ok: false, stderr: expect.stringMatching(/revoked/i) });
    const hosts = (await iamRa(["host", "list", "-n", "e2e"])).json;
    expect(hosts.items).toEqual([
      expect.objectContaining({ hostname: "web-1.example.com", status: "revoked" }),
    ]);
  }, 120_000);

  it("host onboard --csr: the key never leaves the host", async () => {
    const { execFileSync } = await import("node:child_process");
    const key = join(dir, "h2.key");
    const csr = join(dir, "h2.csr");
    execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
    execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/CN=whatever", "-out", csr]);
    const out = join(dir, "h2");
    const r = await iamRa([
      "host",
      "onboard",
      "h2",
      "--role",
      "app-b",
      "-n",
      "e2e",
      "--csr",
      csr,
      "--output-dir",
      out,
    ]);
    expect(r.json).toMatchObject({
      privateKeyGenerated: false,
      certificate: { keySource: "csr", subject: "CN=h2,OU=app-b" },
      files: { privateKey: null },
    });
    const got = await credentials({ certificate: r.json.files.certificate, privateKey: key }, r.json);
    expect(got.ok).toBe(true);
    const secret = JSON.parse(
      (
        await exec(
          "aws",
          [
            "secretsmanager",
            "get-secret-value",
            "--secret-id",
            r.json.secretArn,
            "--query",
            "SecretString",
            "--output",
            "text",
            "--endpoint-url",
            aws.moto.url,
          ],
          { env: aws.env },
        )
      ).stdout,
    );
    expect(secret).not.toHaveProperty("privateKey");
    expect(secret.certificate).toBe(readFileSync(r.json.files.certificate, "utf8"));
  }, 120_000);

  it("host rotate really rotates; host offboard revokes and deletes; --sops without sops changes nothing", async () => {
    const out = join(dir, "web-1-rotated");
    const before = (await iamRa(["host", "list", "-n", "e2e"])).json.items.find(
      (i: { hostname: string }) => i.hostname === "web-1.example.com",
    );
    const rotated = await iamRa(["host", "rotate", "web-1.example.com", "-n", "e2e", "--output-dir", out]);
    expect(rotated.code).toBe(0);
    expect(rotated.json.certificate.serialNumber).not.toBe(before.serialNumber);
    // The new certificate works (the CRL lists only the revoked one) and the secret holds it.
    const files = { certificate: rotated.json.files.certificate, privateKey: rotated.json.files.privateKey };
    expect((await credentials(files, rotated.json)).ok).toBe(true);
    const secret = JSON.parse(
      (
        await exec(
          "aws",
          [
            "secretsmanager",
            "get-secret-value",
            "--secret-id",
            rotated.json.secretArn,
            "--query",
            "SecretString",
            "--output",
            "text",
            "--endpoint-url",
            aws.moto.url,
          ],
          { env: aws.env },
        )
      ).stdout,
    );
    expect(secret.certificate).toBe(readFileSync(files.certificate, "utf8"));
    const after = (await iamRa(["host", "list", "-n", "e2e"])).json.items.find(
      (i: { hostname: string }) => i.hostname === "web-1.example.com",
    );
    expect(after).toMatchObject({ status: "active", serialNumber: rotated.json.certificate.serialNumber });

    const off = await iamRa(["host", "offboard", "web-1.example.com", "-n", "e2e", "--yes"]);
    expect(off.json).toMatchObject({ revoked: [rotated.json.certificate.serialNumber], secretDeleted: true });
    expect(await credentials(files, rotated.json)).toMatchObject({
      ok: false,
      stderr: expect.stringMatching(/revoked/i),
    });
    const hosts = (await iamRa(["host", "list", "-n", "e2e"])).json.items.map(
      (i: { hostname: string }) => i.hostname,
    );
    expect(hosts).not.toContain("web-1.example.com");

    const sops = await iamRa(
      ["host", "onboard", "s1", "--role", "app-a", "-n", "e2e", "--sops", join(dir, "s1.yaml")],
      {
        ...aws.env,
        PATH: "/nonexistent",
      },
    );
    expect(sops.json.error).toMatchObject({ code: "tool-missing", hint: expect.stringMatching(/sops/) });
    expect(
      (await iamRa(["host", "list", "-n", "e2e"])).json.items.map((i: { hostname: string }) => i.hostname),
    ).not.toContain("s1");
  }, 120_000);

  it("role create --attribute-mapping sets the profile's mappings; one that drops the binding is refused", async () => {
    const refused = await iamRa([
      "role",
      "create",
      "mapped",
      "-n",
      "e2e",
      "--attribute-mapping",
      "x509Subject=CN",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.json.error).toMatchObject({ code: "invalid-input", hint: expect.stringContaining("OU") });
    expect(refused.json.error.message).toContain("x509Subject/OU");
    const names = (await iamRa(["role", "list", "-n", "e2e"])).json.items.map(
      (i: { name: string }) => i.name,
    );
    expect(names).not.toContain("mapped");

    const created = await iamRa([
      "role",
      "create",
      "mapped",
      "-n",
      "e2e",
      "--attribute-mapping",
      "x509Subject=OU",
      "--attribute-mapping",
      "x509SAN=DNS",
    ]);
    expect(created.code).toBe(0);
    expect(created.json.attributeMappings).toEqual([
      { certificateField: "x509Subject", specifiers: ["OU"] },
      { certificateField: "x509SAN", specifiers: ["DNS"] },
    ]);
    const profileOf = (arn: string) => aws.emu.state.profiles.find((p) => p.profileArn === arn)!;
    const rules = (arn: string) =>
      Object.fromEntries(
        (
          profileOf(arn).attributeMappings as Array<{
            certificateField: string;
            mappingRules: { specifier: string }[];
          }>
        ).map((m) => [m.certificateField, m.mappingRules.map((r) => r.specifier)]),
      );
    expect(rules(created.json.profileArn)).toEqual({
      x509Subject: ["OU"],
      x509Issuer: ["*"],
      x509SAN: ["DNS"],
    });

    // A certificate for the role still gets in: its OU and its issuer's CN are mapped.
    const onboard = await iamRa([
      "host",
      "onboard",
      "mapped-1.example.com",
      "--role",
      "mapped",
      "-n",
      "e2e",
      "--output-dir",
      join(dir, "mapped-1"),
    ]);
    expect(onboard.code).toBe(0);
    const files = { certificate: onboard.json.files.certificate, privateKey: onboard.json.files.privateKey };
    expect(await credentials(files, onboard.json)).toMatchObject({ ok: true });
    const session = aws.emu.state.sessions.at(-1)!;
    expect(session.roleArn).toBe(created.json.roleArn);

    // Back to AWS's defaults.
    const reset = await iamRa(["role", "update", "mapped", "-n", "e2e", "--attribute-mapping", "default"]);
    expect(reset.code).toBe(0);
    expect(reset.json.attributeMappings).toBeNull();
    expect(rules(created.json.profileArn)).toEqual({
      x509Subject: ["*"],
      x509Issuer: ["*"],
      x509SAN: ["DNS", "URI", "Name/*"],
    });
    expect((await iamRa(["host", "offboard", "mapped-1.example.com", "-n", "e2e", "--yes"])).code).toBe(0);
    expect((await iamRa(["role", "delete", "mapped", "-n", "e2e", "--yes"])).code).toBe(0);
  }, 180_000);

  it("10 concurrent role create on one namespace: all 10 recorded", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `par-${i}`);
    const results = await Promise.all(names.map((n) => iamRa(["role", "create", n, "-n", "e2e"])));
    expect(results.map((r) => (r.code === 0 ? 0 : (r.json?.error ?? r.stderr)))).toEqual(names.map(() => 0));
    const list = (await iamRa(["role", "list", "-n", "e2e"])).json;
    expect(list.items.map((i: { name: string }) => i.name)).toEqual(expect.arrayContaining(names));
    // status reads every stack, trust anchor and profile (several at a time) and lists them in order.
    const status = await iamRa(["status", "-n", "e2e"]);
    expect(status.code).toBe(0);
    const checks = status.json.checks as Array<{ level: string; subject: string }>;
    const subjects = checks.map((c) => c.subject);
    expect(subjects[0]).toBe("init");
    expect(subjects.indexOf("ca default")).toBeLessThan(subjects.findIndex((x) => x.startsWith("role ")));
    expect(subjects.filter((x) => x.startsWith("role par-")).sort()).toEqual(
      names.map((n) => `role ${n}`).sort(),
    );
    expect(checks.filter((c) => c.level === "error")).toEqual([]);
  }, 180_000);

  it("bad input is refused before any AWS call, with a hint and no stack trace", async () => {
    // Every AWS endpoint is a closed port: an AWS call would fail as a network error, not as bad input.
    const offline = {
      ...aws.env,
      AWS_ENDPOINT_URL: "http://127.0.0.1:1",
      AWS_ENDPOINT_URL_ROLESANYWHERE: "http://127.0.0.1:1",
    };
    // A flag value out of its range is a command line iam-ra cannot run: exit 2 (docs/cli-reference.md).
    const usage = new Set(["--session-duration", "--validity-days"]);
    for (const args of [
      ["role", "create", "bad name", "-n", "e2e"],
      ["role", "create", "x", "-n", "e2e", "--session-duration", "100"],
      ["role", "create", "x", "-n", "e2e", "--policy", "not-an-arn"],
      ["host", "onboard", "bad_host", "--role", "app-a", "-n", "e2e"],
      ["init", "-n", "Bad-NS"],
      ["init", "-n", "ok", "--ca-mode", "pca-existing", "--pca-arn", "arn:aws:acm-pca:nope"],
      ["role", "create", "x", "-n", "e2e", "--binding-tag", "Subject/OU"],
      ["role", "create", "x", "-n", "e2e", "--attribute-mapping", "x509Foo=CN"],
      ["role", "create", "x", "-n", "e2e", "--attribute-mapping", "x509SAN=IP"],
      ["host", "onboard", "h", "--role", "app-a", "-n", "e2e", "--validity-days", "0"],
    ]) {
      const r = await iamRa(args, offline);
      expect(r.code, args.join(" ")).toBe(args.some((a) => usage.has(a)) ? 2 : 1);
      expect(r.json.error, args.join(" ")).toMatchObject({
        code: expect.stringMatching(/invalid|arn/),
        hint: expect.any(String),
      });
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 60_000);

  it("a Roles Anywhere service of another region is detected: a clear error, the CA stack taken down again", async () => {
    // The emulator serves us-east-1; this namespace lives in eu-west-1.
    const r = await iamRa(["init", "-n", "regmis", "--region", "eu-west-1"]);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({
      code: "region-mismatch",
      message: expect.stringMatching(
        /is in eu-west-1, but the Roles Anywhere service made its trust anchor in us-east-1/,
      ),
      hint: expect.stringMatching(/--region eu-west-1/),
    });
    const stacks = JSON.parse(
      (
        await exec(
          "aws",
          ["cloudformation", "list-stacks", "--region", "eu-west-1", "--endpoint-url", aws.moto.url],
          { env: aws.env },
        )
      ).stdout,
    ).StackSummaries as Array<{ StackName: string; StackStatus: string }>;
    const live = stacks.filter(
      (st) => st.StackName.startsWith("iam-ra-regmis-ca") && st.StackStatus !== "DELETE_COMPLETE",
    );
    expect(live).toEqual([]);
    expect((await iamRa(["destroy", "-n", "regmis", "--region", "eu-west-1", "--yes"])).code).toBe(0);
  }, 120_000);

  it("destroy leaves no stack, parameter, secret or bucket", async () => {
    const r = await iamRa(["destroy", "-n", "e2e", "--yes"]);
    expect(r.json?.error ?? null).toBeNull();
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ namespace: "e2e", bucket: "deleted" });
    const q = async (args: string[]) =>
      JSON.parse(
        (await exec("aws", [...args, "--endpoint-url", aws.moto.url, "--output", "json"], { env: aws.env }))
          .stdout,
      );
    const stacks = (await q(["cloudformation", "list-stacks"])).StackSummaries.filter(
      (s: { StackStatus: string; StackName: string }) =>
        s.StackStatus !== "DELETE_COMPLETE" && s.StackName.startsWith("iam-ra-e2e"),
    );
    expect(stacks).toEqual([]);
    expect(
      (await q(["ssm", "get-parameters-by-path", "--path", "/iam-ra/e2e", "--recursive"])).Parameters,
    ).toEqual([]);
    expect(
      (await q(["secretsmanager", "list-secrets"])).SecretList.filter((s: { Name: string }) =>
        s.Name.startsWith("iam-ra/e2e/"),
      ),
    ).toEqual([]);
    expect(((await q(["s3api", "list-buckets"])).Buckets ?? []).length).toBe(0);
    // The KMS key is kept by the stack and scheduled for deletion by destroy.
    const keys = (await q(["kms", "list-keys"])).Keys as Array<{ KeyId: string }>;
    const states = await Promise.all(
      keys.map(async (k) => (await q(["kms", "describe-key", "--key-id", k.KeyId])).KeyMetadata.KeyState),
    );
    expect(states).not.toContain("Enabled");
    const status = await iamRa(["status", "-n", "e2e"]);
    expect(status.json).toMatchObject({ initialized: false });
  }, 120_000);
});
