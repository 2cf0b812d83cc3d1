import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { renderTemplate, roleTemplate } from "@iam-ra/core/cloudformation";
import { parseK8sYaml } from "@iam-ra/core/k8s";
import { freePort, issueLikeCertManager, issueLikeCsiDriver } from "@iam-ra/core/testing";
import { createServingCertificate, issueCertificate } from "@iam-ra/core/x509";
import jsonpatch from "fast-json-patch";
import { Pod } from "kubernetes-models/v1/Pod";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createCredentialProcess } from "./helpers/cli.ts";
import {
  buildSidecarImage,
  containerArgv,
  containerEnv,
  createSecretVolume,
  imageEntrypoint,
  type Node,
  type Obj,
  probeArgv,
} from "./helpers/kubelet.ts";
import { type LocalAws, startLocalAws } from "./helpers/local-aws.ts";

const exec = promisify(execFile);
const BIN = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const CLI_DIR = fileURLToPath(new URL("..", import.meta.url));
const NS = ["-n", "kube"];

let aws: LocalAws;
let dir: string;
let sidecarMain: string;

/** `iam-ra … --json` against local AWS: the parsed stdout (or the failure). */
async function iamRa(args: string[]): Promise<{ code: number; json: Obj; stderr: string }> {
  const r = await raw([...args, "--json"]);
  let json: Obj = {};
  try {
    json = JSON.parse(r.stdout) as Obj;
  } catch {}
  return { code: r.code, json, stderr: r.stderr };
}

/** `iam-ra …` as is: stdout, stderr and exit code. */
async function raw(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await exec(process.execPath, [BIN, ...args], { env: aws.env, maxBuffer: 10e6 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

const parseYaml = (text: string): Obj[] => parseK8sYaml(text) as Obj[];
const find = (objects: Obj[], kind: string) => objects.find((o) => o.kind === kind)!;

const credentials = createCredentialProcess(() => ({ env: aws.env, endpoint: aws.emu.url }));

/** Issues a certificate from a namespace issuer's Secret as cert-manager would, into files. */
async function issueFrom(certificate: Obj, caSecret: Obj, name: string) {
  const issued = await issueLikeCertManager(certificate, caSecret);
  const certificateFile = join(dir, `${name}.crt`);
  const privateKey = join(dir, `${name}.key`);
  writeFileSync(certificateFile, issued["tls.crt"]);
  writeFileSync(privateKey, issued["tls.key"], { mode: 0o600 });
  return { certificate: certificateFile, privateKey, issued };
}

/** A Certificate asking for another subject (what someone holding the issuer's key could sign). */
const withOu = (certificate: Obj, ou: string): Obj => ({
  ...certificate,
  spec: { ...certificate.spec, subject: { organizationalUnits: [ou] } },
});

/**
 * The kubelet starting a pod's native sidecar: the container's argv (else the image's ENTRYPOINT)
 * and env, only the Roles Anywhere endpoint swapped for the emulator; resolves once its startup
 * probe passes.
 */
async function startPodSidecar(node: Node, sidecar: Obj, namespace: string) {
  const [command, ...argv] = containerArgv(node, sidecar, imageEntrypoint());
  expect(command).toBe("node");
  const env = containerEnv(node, sidecar, namespace);
  let stderr = "";
  const child: ChildProcess = spawn(process.execPath, argv, {
    env: { PATH: process.env.PATH, ...env, IAM_RA_ENDPOINT: aws.emu.url },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const stop = async () => {
    child.kill("SIGTERM");
    if (child.exitCode === null) await once(child, "exit");
  };
  const probe = async (name: "startupProbe" | "readinessProbe" | "livenessProbe") => {
    const [, ...probeArgs] = probeArgv(node, sidecar, name);
    return await exec(process.execPath, probeArgs, { env: { PATH: process.env.PATH, ...env } }).then(
      () => true,
      () => false,
    );
  };
  // The kubelet starts the app once the native sidecar's startup probe passes.
  const deadline = Date.now() + 20_000;
  while (!(await probe("startupProbe"))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`sidecar never started:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { probe, stop };
}

/** The application container: a stock AWS SDK, default chain, asks STS who it is. */
async function stockSdkCallerArn(appEnv: Record<string, string>): Promise<string> {
  const script = `import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
const c = new STSClient({ endpoint: process.argv[1] });
process.stdout.write((await c.send(new GetCallerIdentityCommand({}))).Arn);`;
  const { stdout } = await exec(process.execPath, ["--input-type=module", "-e", script, aws.emu.url], {
    cwd: CLI_DIR,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_CONFIG_FILE: join(dir, "none"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
      ...appEnv,
    },
  });
  return stdout;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "iam-ra-k8s-"));
  [aws, sidecarMain] = await Promise.all([startLocalAws(), buildSidecarImage(dir)]);
  const results: Obj[] = [];
  for (const args of [["init"], ["role", "create", "app-a"], ["role", "create", "app-b"]]) {
    const r = await iamRa([...args, ...NS]);
    expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    results.push(r.json);
  }
  await makeLegacyRole("app-b", results[0]!.bucket);
}, 120_000);

/**
 * Turns a role back into one deployed before issuer binding existed: its stack gets the old template
 * (no x509Issuer/CN condition) and its record loses `allowedIssuers`, as state written then has.
 */
async function makeLegacyRole(role: string, bucket: string) {
  const cli = async (args: string[]) =>
    (await exec("aws", [...args, "--endpoint-url", aws.moto.url], { env: aws.env, maxBuffer: 10e6 })).stdout;
  const template = join(dir, "legacy-role.json");
  writeFileSync(
    template,
    renderTemplate(roleTemplate({ namespace: "kube", role, bindingTag: "x509Subject/OU" })),
  );
  const keep = [
    "TrustAnchorArn",
    "BindingValue",
    "SessionDuration",
    "MaxSessionDuration",
    "ManagedPolicyArns",
  ];
  await cli([
    "cloudformation",
    "update-stack",
    "--stack-name",
    `iam-ra-kube-role-${role}`,
    "--template-body",
    `file://${template}`,
    "--parameters",
    ...keep.map((k) => `ParameterKey=${k},UsePreviousValue=true`),
  ]);
  const policy = JSON.parse(await cli(["iam", "get-role", "--role-name", `iam-ra-kube-${role}`]));
  expect(JSON.stringify(policy.Role.AssumeRolePolicyDocument)).not.toContain("x509Issuer");
  const state = JSON.parse(await cli(["s3", "cp", `s3://${bucket}/kube/state.json`, "-"]));
  delete state.roles[role].allowedIssuers;
  writeFileSync(join(dir, "state.json"), `${JSON.stringify(state, null, 2)}\n`);
  await cli(["s3", "cp", join(dir, "state.json"), `s3://${bucket}/kube/state.json`]);
}
afterAll(async () => {
  await aws?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("k8s: set-up, onboarding and issuer isolation, end to end on moto + the emulator", () => {
  let a: Obj; // onboard of workload-a (namespace team-a, role app-a), files in dirA
  let b: Obj; // onboard of workload-b (namespace team-b, role app-b), manifests in --json
  let objectsA: Obj[];
  const dirA = () => join(dir, "team-a");

  it("setup registers the cluster; re-running changes nothing", async () => {
    expect((await iamRa(["k8s", "setup", "c1", ...NS])).json).toMatchObject({
      outcome: "created",
      cluster: "c1",
    });
    expect((await iamRa(["k8s", "setup", "c1", ...NS])).json).toMatchObject({ outcome: "unchanged" });
    const refused = await iamRa([
      "k8s",
      "onboard",
      "w",
      "--role",
      "app-a",
      "-c",
      "nope",
      "-k",
      "x",
      "--patch",
      ...NS,
    ]);
    expect(refused.json.error).toMatchObject({
      code: "not-found",
      hint: expect.stringMatching(/k8s setup nope/),
    });
  }, 60_000);

  it("onboard --output writes one file per object; the issuer's Secret is 0600; the role admits the namespace issuer", async () => {
    const r = await iamRa([
      "k8s",
      "onboard",
      "workload-a",
      "--role",
      "app-a",
      "--cluster",
      "c1",
      "--k8s-namespace",
      "team-a",
      "--app-image",
      "registry.example.com/team-a/app:1.0.0",
      "--image",
      "ghcr.io/iam-ra/sidecar:test",
      "--output",
      dirA(),
      ...NS,
    ]);
    expect(r.code, r.stderr).toBe(0);
    a = r.json;
    expect(a).toMatchObject({
      outcome: "created",
      workload: "workload-a",
      namespace: "team-a",
      role: "app-a",
      scope: "default",
      manifests: null,
      issuer: { commonName: "iam-ra kube/default k8s c1/team-a", outcome: "created" },
      allowedIssuers: ["iam-ra kube/default CA", "iam-ra kube/default k8s c1/team-a"],
      certificate: { commonName: "workload-a", subject: { organizationalUnits: ["app-a"] }, duration: "24h" },
    });
    // app-b predates issuer binding: it is bound (to the scope CA only) before the namespace issuer
    // exists; app-a then admits team-a's issuer.
    expect(a.rolesUpdated).toEqual([
      { name: "app-b", outcome: "updated", allowedIssuers: ["iam-ra kube/default CA"] },
      { name: "app-a", outcome: "updated", allowedIssuers: a.allowedIssuers },
    ]);
    expect(readdirSync(dirA()).sort()).toEqual([
      "01-ca-secret-iam-ra-kube-default-ca.yaml",
      "02-issuer-iam-ra-kube-default.yaml",
      "03-certificate-workload-a-iam-ra.yaml",
      "04-config-map-workload-a-iam-ra.yaml",
      "05-deployment-workload-a.yaml",
    ]);
    expect(statSync(a.files[0]).mode & 0o777).toBe(0o600);
    expect(statSync(a.files[2]).mode & 0o777).toBe(0o644);
    objectsA = a.files.flatMap((f: string) => parseYaml(readFileSync(f, "utf8")));
    expect(objectsA.map((o) => o.kind)).toEqual([
      "Secret",
      "Issuer",
      "Certificate",
      "ConfigMap",
      "Deployment",
    ]);
    expect(JSON.stringify(r.json)).not.toContain("PRIVATE KEY");
  }, 120_000);

  it("onboard --patch --json: a second namespace gets its own issuer; stdout YAML pipes to kubectl", async () => {
    const r = await iamRa([
      "k8s",
      "onboard",
      "workload-b",
      "--role",
      "app-b",
      "-c",
      "c1",
      "-k",
      "team-b",
      "--deployment",
      "legacy",
      "--container",
      "main",
      ...NS,
    ]);
    expect(r.code, r.stderr).toBe(0);
    b = r.json;
    expect(b).toMatchObject({
      deployment: { mode: "patch", name: "legacy", container: "main" },
      issuer: { commonName: "iam-ra kube/default k8s c1/team-b" },
      allowedIssuers: ["iam-ra kube/default CA", "iam-ra kube/default k8s c1/team-b"],
      files: null,
    });
    expect(b.manifests.map((o: Obj) => o.kind)).toEqual([
      "Secret",
      "Issuer",
      "Certificate",
      "ConfigMap",
      "Deployment",
    ]);
    expect(find(b.manifests, "Deployment").spec).not.toHaveProperty("selector");
    // Without --json: the YAML stream alone on stdout; re-onboarding updates the record, same issuer.
    const again = await raw(["k8s", "onboard", "workload-b", "-c", "c1", "-k", "team-b", ...NS]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.startsWith("---\napiVersion: v1\nkind: Secret\n")).toBe(true);
    const docs = parseYaml(again.stdout);
    expect(docs).toHaveLength(5);
    expect(find(docs, "Deployment").spec.template.spec.containers[0].name).toBe("main");
    expect(again.stderr).toMatch(/workload-b .*: updated/);
    const list = (await iamRa(["k8s", "list", ...NS])).json;
    expect(list.workloads).toHaveLength(2);
    expect(list.issuers.map((i: { commonName: string }) => i.commonName).sort()).toEqual([
      "iam-ra kube/default k8s c1/team-a",
      "iam-ra kube/default k8s c1/team-b",
    ]);
    expect(list.issuers.find((i: { namespace: string }) => i.namespace === "team-b").serialNumber).toBe(
      b.issuer.serialNumber,
    );
  }, 120_000);

  it("onboard refuses to print the issuer's key onto a terminal, before anything is issued", async () => {
    // `script` gives the command a pseudo-terminal as stdout.
    const command = [
      process.execPath,
      BIN,
      "k8s",
      "onboard",
      "tty-w",
      "--role",
      "app-a",
      "-c",
      "c1",
      "-k",
      "tty",
      "--patch",
      ...NS,
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    const r = await exec("script", ["-qec", command, "/dev/null"], { env: aws.env }).then(
      () => ({ code: 0, out: "" }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/stdout is a terminal/);
    expect(r.out).not.toMatch(/PRIVATE KEY|tls\.key/);
    const listed = await iamRa(["k8s", "list", ...NS]);
    expect(listed.json.workloads.map((w: Obj) => w.name)).not.toContain("tty-w");
  }, 60_000);

  it("the manifests run: cert-manager + kubelet played from the emitted objects, a stock SDK gets credentials, rotation is picked up", async () => {
    const [caSecret, , certificate, configMap, deployment] = objectsA as [Obj, Obj, Obj, Obj, Obj];
    const pod = deployment.spec.template.spec;
    const sidecar = pod.initContainers.find((c: Obj) => c.name === "iam-ra");
    const app = pod.containers[0];
    expect(sidecar.restartPolicy).toBe("Always");
    // cert-manager: the Certificate, from the namespace issuer in the emitted Secret.
    const volume = createSecretVolume();
    const first = await issueLikeCertManager(certificate, caSecret);
    const { issued: _i, ...files } = first;
    volume.publish(files);
    // The kubelet: volumes by name, the image's entrypoint, env from the ConfigMap.
    const tokenDir = mkdtempSync(join(dir, "token-"));
    const certVolume = pod.volumes.find((v: Obj) => v.secret);
    expect(certVolume.secret.secretName).toBe(certificate.spec.secretName);
    const node: Node = {
      volumes: { [certVolume.name]: volume.dir, [pod.volumes.find((v: Obj) => v.emptyDir).name]: tokenDir },
      imageFiles: { "/app/main.js": sidecarMain },
      configMaps: [configMap],
    };
    const env = containerEnv(node, sidecar, "team-a");
    expect(env).toMatchObject({ IAM_RA_ROLE_ARN: a.roleArn, IAM_RA_PORT: "9911" });
    const running = await startPodSidecar(node, sidecar, "team-a");
    try {
      expect(await running.probe("readinessProbe")).toBe(true);
      expect(await running.probe("livenessProbe")).toBe(true);
      expect(statSync(join(tokenDir, "token")).mode & 0o777).toBe(0o640);
      // The application container: a stock AWS SDK, default chain, with the env the Deployment gives it.
      const appEnv = containerEnv(node, app, "team-a");
      expect(Object.keys(appEnv).sort()).toEqual([
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_REGION",
      ]);
      const callerArn = () => stockSdkCallerArn(appEnv);
      expect(await callerArn()).toBe(
        `arn:aws:sts::123456789012:assumed-role/iam-ra-kube-app-a/${first.issued.certificate.serialNumber.toLowerCase()}`,
      );
      // cert-manager renews: a new key and certificate, swapped in under ..data.
      const next = await issueLikeCertManager(certificate, caSecret);
      const { issued, ...nextFiles } = next;
      volume.publish(nextFiles);
      const nextSerial = issued.certificate.serialNumber.toLowerCase();
      let arn = "";
      for (const until = Date.now() + 20_000; Date.now() < until && !arn.endsWith(nextSerial); ) {
        arn = await callerArn();
        if (!arn.endsWith(nextSerial)) await new Promise((r) => setTimeout(r, 300));
      }
      expect(arn).toBe(`arn:aws:sts::123456789012:assumed-role/iam-ra-kube-app-a/${nextSerial}`);
    } finally {
      await running.stop();
      volume.cleanup();
    }
  }, 120_000);

  it("a certificate from namespace A's issuer cannot get a role onboarded only in namespace B", async () => {
    const [caSecretA, , certificateA] = objectsA as [Obj, Obj, Obj];
    const caSecretB = find(b.manifests, "Secret");
    const certificateB = find(b.manifests, "Certificate");
    const arnsA = { trustAnchorArn: a.trustAnchorArn, profileArn: a.profileArn, roleArn: a.roleArn };
    const arnsB = { trustAnchorArn: b.trustAnchorArn, profileArn: b.profileArn, roleArn: b.roleArn };
    // Whoever reads team-a's Secrets holds its issuer key and can sign any subject, e.g. OU=app-b…
    const forged = await issueFrom(withOu(certificateA, "app-b"), caSecretA, "forged");
    const refused = await credentials(forged, arnsB);
    expect(refused.ok).toBe(false);
    // The subject matches app-b's binding and the chain reaches the trust anchor: only the issuer
    // condition can refuse it.
    expect(refused.stderr).toMatch(/trust policy denies it/);
    // …nor make a CA named like team-b's issuer and sign with it: team-a's issuer has path length 0.
    const keyA = createPrivateKey(Buffer.from(caSecretA.data["tls.key"], "base64").toString("utf8"));
    const certA = Buffer.from(caSecretA.data["tls.crt"], "base64")
      .toString("utf8")
      .split(/(?<=-----END CERTIFICATE-----\n)/)[0]!;
    const now = Date.now();
    const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000) };
    const lookalike = await issueCertificate({
      issuer: { certificatePem: certA, privateKey: keyA },
      subject: `CN=${b.issuer.commonName},O=iam-ra`,
      ca: { pathLength: 0 },
      ...validity,
    });
    const leaf = await issueCertificate({
      issuer: lookalike,
      subject: "CN=workload-b,OU=app-b",
      ...validity,
    });
    const chained = join(dir, "lookalike.crt");
    writeFileSync(chained, leaf.certificatePem + lookalike.certificatePem + certA);
    writeFileSync(join(dir, "lookalike.key"), leaf.privateKeyPem, { mode: 0o600 });
    expect(
      await credentials({ certificate: chained, privateKey: join(dir, "lookalike.key") }, arnsB),
    ).toMatchObject({
      ok: false,
      stderr: expect.stringMatching(/path length/),
    });
    // …while the same issuer's certificates get team-a's role, and team-b's issuer gets team-b's.
    expect((await credentials(await issueFrom(certificateA, caSecretA, "a"), arnsA)).ok).toBe(true);
    const fromB = await issueFrom(certificateB, caSecretB, "b");
    expect((await credentials(fromB, arnsB)).ok).toBe(true);
    expect(
      await credentials(await issueFrom(withOu(certificateB, "app-a"), caSecretB, "b2"), arnsA),
    ).toMatchObject({ ok: false, stderr: expect.stringMatching(/trust policy denies it/) });
    // Hosts keep working: the scope CA stays admitted.
    const host = await iamRa([
      "host",
      "onboard",
      "h1",
      "--role",
      "app-a",
      "--output-dir",
      join(dir, "h1"),
      ...NS,
    ]);
    expect(host.code, host.stderr).toBe(0);
    expect((await credentials(host.json.files, arnsA)).ok).toBe(true);
    // Kept for the offboarding test.
    b.fromB = fromB;
  }, 120_000);

  it("offboarding the last workload of a namespace removes its issuer from the role and revokes it", async () => {
    const r = await iamRa(["k8s", "offboard", "workload-b", "-c", "c1", "-k", "team-b", "--yes", ...NS]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      role: "app-b",
      rolesUpdated: [{ name: "app-b", allowedIssuers: ["iam-ra kube/default CA"] }],
      issuersRetired: [{ commonName: "iam-ra kube/default k8s c1/team-b" }],
    });
    expect(r.json.objects.map((o: Obj) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Certificate/workload-b-iam-ra",
      "Secret/workload-b-iam-ra-tls",
      "ConfigMap/workload-b-iam-ra",
      "Issuer/iam-ra-kube-default",
      "Secret/iam-ra-kube-default-ca",
    ]);
    const arnsB = { trustAnchorArn: b.trustAnchorArn, profileArn: b.profileArn, roleArn: b.roleArn };
    // Refused: team-b's issuer is out of app-b's trust policy, and revoked (the CRL is checked first).
    expect(await credentials(b.fromB, arnsB)).toMatchObject({
      ok: false,
      stderr: expect.stringMatching(/revoked/i),
    });
    const gone = await iamRa(["k8s", "offboard", "workload-b", "-c", "c1", "-k", "team-b", "--yes", ...NS]);
    expect(gone.json.error).toMatchObject({ code: "not-found" });
  }, 120_000);

  it("an offboard that fails half-way leaves the workload marked offboarding, out of trust; re-running finishes it", async () => {
    const onboard = await iamRa([
      "k8s",
      "onboard",
      "workload-c",
      "--role",
      "app-a",
      "--cluster",
      "c1",
      "--k8s-namespace",
      "team-c",
      "--app-image",
      "registry.example.com/team-c/app:1.0.0",
      "--image",
      "ghcr.io/iam-ra/sidecar:test",
      ...NS,
    ]);
    expect(onboard.code, onboard.stderr).toBe(0);
    expect(onboard.json.allowedIssuers).toContain("iam-ra kube/default k8s c1/team-c");
    const fromC = await issueFrom(
      find(onboard.json.manifests, "Certificate"),
      find(onboard.json.manifests, "Secret"),
      "from-c",
    );
    const arns = {
      trustAnchorArn: onboard.json.trustAnchorArn,
      profileArn: onboard.json.profileArn,
      roleArn: onboard.json.roleArn,
    };
    expect((await credentials(fromC, arns)).ok).toBe(true);

    // Roles Anywhere goes away: the role's trust policy (IAM) still updates, importing the CRL fails.
    const saved = join(dir, "emulator-state.json");
    const port = Number(new URL(aws.emu.url).port);
    await aws.emu.close();
    writeFileSync(saved, JSON.stringify(aws.emu.state));
    const failed = await iamRa(["k8s", "offboard", "workload-c", "-c", "c1", "-k", "team-c", "--yes", ...NS]);
    expect(failed.code).toBe(1);
    expect(failed.json.error).toMatchObject({
      code: "stack-failed",
      hint: expect.stringMatching(/run the same `iam-ra k8s offboard` again/),
    });
    const listed = await iamRa(["k8s", "list", ...NS]);
    expect(listed.json.workloads).toContainEqual(
      expect.objectContaining({ name: "workload-c", status: "offboarding" }),
    );
    const roles = await iamRa(["role", "list", ...NS]);
    expect(roles.json.items.find((r: Obj) => r.name === "app-a").allowedIssuers).not.toContain(
      "iam-ra kube/default k8s c1/team-c",
    );

    // Back (same port, same state): the same offboard finishes the job.
    const { startEmulator } = await import("@iam-ra/emulator");
    const back = await startEmulator({
      port,
      persistPath: saved,
      iamEndpoint: aws.moto.url,
      acmPcaEndpoint: aws.moto.url,
    });
    aws.emu = back;
    const done = await iamRa(["k8s", "offboard", "workload-c", "-c", "c1", "-k", "team-c", "--yes", ...NS]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.json.issuersRetired).toEqual([
      expect.objectContaining({ commonName: "iam-ra kube/default k8s c1/team-c" }),
    ]);
    expect(await credentials(fromC, arns)).toMatchObject({
      ok: false,
      stderr: expect.stringMatching(/revoked/i),
    });
    expect((await iamRa(["k8s", "list", ...NS])).json.workloads.map((w: Obj) => w.name)).not.toContain(
      "workload-c",
    );
  }, 180_000);

  it("a role update racing an offboard: the deploy that lands last is redone, so the offboarded issuer is not trusted", async () => {
    const RACE = ["-n", "race"];
    for (const args of [
      ["init"],
      ["role", "create", "app"],
      ["k8s", "setup", "c1"],
      [
        "k8s",
        "onboard",
        "w1",
        "--role",
        "app",
        "-c",
        "c1",
        "-k",
        "t1",
        "--patch",
        "--image",
        "ghcr.io/iam-ra/sidecar:test",
      ],
    ]) {
      const r = await iamRa([...args, ...RACE]);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
    const teamIssuer = "iam-ra race/default k8s c1/t1";
    const { createAdminDeps } = await import("../src/services/admin-deps.ts");
    const { offboardWorkload, putRole } = await import("@iam-ra/core/admin");
    // In process, the SDK's credential chain reads this process's environment.
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = "testing";
    process.env.AWS_SECRET_ACCESS_KEY = "testing";
    onTestFinished(() => {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    });
    const deps = await createAdminDeps({ namespace: "race", region: "us-east-1" }, aws.env, {
      step() {},
      event() {},
    });
    // Admin 1 updates the role with the issuer list it read; just before its change set executes,
    // admin 2 offboards the workload (and deploys the role without the issuer).
    let raced = false;
    const racing = {
      ...deps,
      cfn: {
        ...deps.cfn,
        async executeChangeSet(stack: string, changeSet: string) {
          if (!raced && stack === "iam-ra-race-role-app") {
            raced = true;
            await offboardWorkload(deps, "w1", { cluster: "c1", namespace: "t1" });
          }
          return await deps.cfn.executeChangeSet(stack, changeSet);
        },
      },
    };
    const updated = await putRole(racing, "app", { mode: "update", sessionDurationSeconds: 7200 });
    expect(raced).toBe(true);
    expect(updated.allowedIssuers).toEqual(["iam-ra race/default CA"]);
    // What IAM holds and what state says agree, and neither trusts the offboarded namespace.
    const { stdout } = await exec(
      "aws",
      ["iam", "get-role", "--role-name", "iam-ra-race-app", "--endpoint-url", aws.moto.url],
      { env: aws.env },
    );
    expect(stdout).not.toContain(teamIssuer);
    expect(stdout).toContain("iam-ra race/default CA");
    const role = (await iamRa(["role", "list", ...RACE])).json.items.find((r: Obj) => r.name === "app");
    expect(role).toMatchObject({ allowedIssuers: ["iam-ra race/default CA"], sessionDurationSeconds: 7200 });
  }, 180_000);

  it("webhook: onboard --webhook + webhook install run as emitted; an annotated pod is injected, csi-driver's certificate gets a stock SDK credentials; offboard lists only the issuer", async () => {
    const onboard = await iamRa([
      "k8s",
      "onboard",
      "web-c",
      "--role",
      "app-a",
      "-c",
      "c1",
      "-k",
      "team-c",
      "--webhook",
      "--certificates",
      "csi",
      ...NS,
    ]);
    expect(onboard.code, onboard.stderr).toBe(0);
    const issuerObjects = onboard.json.manifests as Obj[];
    expect(issuerObjects.map((o) => o.kind)).toEqual(["Secret", "Issuer", "ConfigMap"]);
    const [caSecret, issuer] = issuerObjects as [Obj, Obj];
    const install = await iamRa([
      "k8s",
      "webhook",
      "install",
      "-c",
      "c1",
      "--image",
      "ghcr.io/iam-ra/sidecar:test",
      ...NS,
    ]);
    expect(install.code, install.stderr).toBe(0);
    // Every namespace the cluster's workloads were onboarded in may use its roles (team-a's too).
    expect(install.json.namespaces).toContainEqual({ namespace: "team-c", roles: ["app-a"] });
    const manifests = install.json.manifests as Obj[];
    expect(JSON.stringify(manifests)).not.toContain("PRIVATE KEY");
    const deployment = find(manifests, "Deployment");
    const service = find(manifests, "Service");
    const serving = manifests.find(
      (o) => o.kind === "Certificate" && o.spec.usages?.includes("server auth"),
    )!;
    const configMap = manifests.find((o) => o.kind === "ConfigMap" && o.data?.["config.json"])!;
    // The API server calls the Service named in the MutatingWebhookConfiguration, by its DNS name.
    const [hook] = find(manifests, "MutatingWebhookConfiguration").webhooks;
    expect(hook.clientConfig.service).toMatchObject({
      name: service.metadata.name,
      namespace: service.metadata.namespace,
      port: 443,
    });
    const serverName = `${service.metadata.name}.${service.metadata.namespace}.svc`;
    expect(serving.spec.dnsNames).toContain(serverName);
    // cert-manager: the serving certificate for the Certificate's DNS names (and the CA it trusts).
    const tlsDir = mkdtempSync(join(dir, "webhook-tls-"));
    const servingTls = await createServingCertificate({
      commonName: serving.spec.commonName,
      dnsNames: serving.spec.dnsNames,
    });
    writeFileSync(join(tlsDir, "tls.crt"), servingTls.certificatePem);
    writeFileSync(join(tlsDir, "tls.key"), servingTls.privateKeyPem, { mode: 0o600 });
    const ca = servingTls.caCertificatePem;
    // The kubelet: the ConfigMap and Secret volumes, the webhook container as the Deployment has it.
    const configDir = mkdtempSync(join(dir, "webhook-config-"));
    for (const [key, value] of Object.entries(configMap.data as Record<string, string>))
      writeFileSync(join(configDir, key), value);
    const podSpec = deployment.spec.template.spec;
    const container = podSpec.containers[0];
    const volumeOf = (pred: (v: Obj) => boolean) => podSpec.volumes.find(pred).name as string;
    const webhookNode: Node = {
      volumes: {
        [volumeOf((v) => v.secret)]: tlsDir,
        [volumeOf((v) => v.configMap?.name === configMap.metadata.name)]: configDir,
      },
      imageFiles: { "/app/webhook.js": join(dirname(sidecarMain), "webhook.js") },
      configMaps: [],
    };
    const [command, ...argv] = containerArgv(webhookNode, container, imageEntrypoint());
    expect(command).toBe("node");
    const port = await freePort();
    let webhookStderr = "";
    const webhook = spawn(process.execPath, argv, {
      env: {
        PATH: process.env.PATH,
        ...containerEnv(webhookNode, container, deployment.metadata.namespace),
        // The node's stand-ins: loopback instead of the pod network, and no API server to ask
        // about service accounts (the pod below names its role itself).
        IAM_RA_WEBHOOK_HOST: "127.0.0.1",
        IAM_RA_WEBHOOK_PORT: String(port),
        IAM_RA_WEBHOOK_SERVICE_ACCOUNTS: "off",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    webhook.stderr!.on("data", (d: Buffer) => {
      webhookStderr += d.toString();
    });
    const volume = createSecretVolume();
    let sidecarPod: Awaited<ReturnType<typeof startPodSidecar>> | undefined;
    try {
      const call = (method: string, path: string, body?: string) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = httpsRequest(
            {
              host: "127.0.0.1",
              port,
              path,
              method,
              ca,
              servername: serverName,
              headers: body ? { "content-type": "application/json" } : {},
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on("data", (c: Buffer) => chunks.push(c));
              res.on("end", () =>
                resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
              );
            },
          );
          req.on("error", reject);
          req.end(body);
        });
      const readyPath = container.readinessProbe.httpGet.path as string;
      for (const until = Date.now() + 20_000; ; ) {
        const ready = await call("GET", readyPath).catch(() => ({ status: 0 }));
        if (ready.status === 200) break;
        if (Date.now() > until || webhook.exitCode !== null)
          throw new Error(`webhook never ready:\n${webhookStderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      // The API server: an AdmissionReview for a pod of team-c that names its role.
      const pod: Obj = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web-c-1", namespace: "team-c", annotations: { "iam-ra.dev/role": "app-a" } },
        spec: {
          serviceAccountName: "web-c",
          containers: [{ name: "app", image: "registry.example.com/web-c:1" }],
        },
      };
      const review = (object: Obj) =>
        JSON.stringify({
          apiVersion: "admission.k8s.io/v1",
          kind: "AdmissionReview",
          request: {
            uid: "0f6e7a52-2b1c-4c8e-9d57-3c1f1e0a9b21",
            kind: { group: "", version: "v1", kind: "Pod" },
            resource: { group: "", version: "v1", resource: "pods" },
            namespace: "team-c",
            operation: "CREATE",
            userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
            object,
          },
        });
      const answer = await call("POST", hook.clientConfig.service.path, review(pod));
      expect(answer.status).toBe(200);
      const { response } = JSON.parse(answer.text) as Obj;
      expect(response).toMatchObject({
        uid: "0f6e7a52-2b1c-4c8e-9d57-3c1f1e0a9b21",
        allowed: true,
        patchType: "JSONPatch",
      });
      const patch = JSON.parse(Buffer.from(response.patch, "base64").toString());
      const patched = jsonpatch.applyPatch(structuredClone(pod), patch, true, false).newDocument as Obj;
      new Pod(patched as ConstructorParameters<typeof Pod>[0]).validate();
      // A role the namespace was not given is refused, with the command that would grant it.
      const other = structuredClone(pod);
      other.metadata.annotations["iam-ra.dev/role"] = "app-b";
      const refused = JSON.parse(
        (await call("POST", hook.clientConfig.service.path, review(other))).text,
      ) as Obj;
      expect(refused.response).toMatchObject({
        allowed: false,
        status: {
          code: 403,
          message: expect.stringMatching(/iam-ra k8s onboard <workload> --role app-b --k8s-namespace team-c/),
        },
      });

      // The node runs the patched pod: csi-driver issues its certificate from team-c's issuer.
      const sidecar = patched.spec.initContainers[0];
      expect(sidecar).toMatchObject({
        name: "iam-ra",
        image: "ghcr.io/iam-ra/sidecar:test",
        restartPolicy: "Always",
      });
      const csiVolume = patched.spec.volumes.find((v: Obj) => v.csi);
      const { files, issued } = await issueLikeCsiDriver(csiVolume.csi.volumeAttributes, {
        name: issuer.metadata.name,
        secret: caSecret,
      });
      volume.publish(files);
      const tokenDir = mkdtempSync(join(dir, "webhook-token-"));
      const podNode: Node = {
        volumes: {
          [csiVolume.name]: volume.dir,
          [patched.spec.volumes.find((v: Obj) => v.emptyDir).name]: tokenDir,
        },
        imageFiles: { "/app/main.js": sidecarMain },
        configMaps: [],
      };
      sidecarPod = await startPodSidecar(podNode, sidecar, "team-c");
      const appEnv = containerEnv(podNode, patched.spec.containers[0], "team-c");
      expect(await stockSdkCallerArn(appEnv)).toBe(
        `arn:aws:sts::123456789012:assumed-role/iam-ra-kube-app-a/${issued.certificate.serialNumber.toLowerCase()}`,
      );
    } finally {
      await sidecarPod?.stop();
      webhook.kill("SIGTERM");
      if (webhook.exitCode === null) await once(webhook, "exit");
      volume.cleanup();
    }
    expect(webhook.exitCode, webhookStderr).toBe(0);
    // Offboarding: the namespace's issuer is all there is to delete (csi keeps no Secret per workload).
    const off = await iamRa(["k8s", "offboard", "web-c", "-c", "c1", "-k", "team-c", "--yes", ...NS]);
    expect(off.code, off.stderr).toBe(0);
    expect(off.json.objects.map((o: Obj) => o.kind)).toEqual(["Issuer", "Secret"]);
    expect(off.json.webhook).toBe(true);
    const after = await iamRa(["k8s", "webhook", "config", "-c", "c1", ...NS]);
    expect(after.json.namespaces.map((n: Obj) => n.namespace)).not.toContain("team-c");
  }, 180_000);

  it("teardown refuses while workloads remain; then removes the cluster", async () => {
    const refused = await iamRa(["k8s", "teardown", "c1", "--yes", ...NS]);
    expect(refused.json.error).toMatchObject({
      code: "in-use",
      message: expect.stringMatching(/team-a\/workload-a/),
    });
    // destroy refuses too, before deleting anything (the rest of this test still works).
    const destroy = await iamRa(["destroy", "--yes", ...NS]);
    expect(destroy.code).toBe(1);
    expect(destroy.json.error).toMatchObject({
      code: "in-use",
      message: expect.stringMatching(/cluster\(s\) c1 and workload\(s\) c1\/team-a\/workload-a/),
      hint: expect.stringMatching(/--forget-clusters/),
    });
    const off = await raw(["k8s", "offboard", "workload-a", "-c", "c1", "-k", "team-a", "--yes", ...NS]);
    expect(off.code, off.stderr).toBe(0);
    // Without --json the objects to delete are a YAML stream for `kubectl delete -f -`.
    expect(parseYaml(off.stdout).map((o) => o.kind)).toEqual([
      "Certificate",
      "Secret",
      "ConfigMap",
      "Issuer",
      "Secret",
    ]);
    const r = await iamRa(["k8s", "teardown", "c1", "--yes", ...NS]);
    expect(r.json).toMatchObject({ cluster: "c1", issuersRetired: [] });
    expect((await iamRa(["k8s", "list", ...NS])).json).toMatchObject({
      clusters: [],
      issuers: [],
      workloads: [],
    });
    expect((await iamRa(["destroy", "--yes", ...NS])).code).toBe(0);
  }, 180_000);
});
