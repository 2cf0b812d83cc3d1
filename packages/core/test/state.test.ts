import { describe, expect, it } from "vitest";
import { IamRaError } from "../src/errors.ts";
import {
  createEmptyState,
  createStateStore,
  parseState,
  type State,
  serializeState,
} from "../src/state/index.ts";
import { createMemoryObjectStore, FixedClock } from "../src/testing/index.ts";

const NOW = new Date("2026-11-22T12:00:00Z");
const ARN = (kind: string, id: string) => `arn:aws:rolesanywhere:eu-west-1:111122223333:${kind}/${id}`;

function initialised(): State {
  const s = createEmptyState("prod", "eu-west-1", "111122223333", NOW);
  s.init = {
    stackName: "iam-ra-prod-init",
    bucketName: "iam-ra-prod-bucket",
    kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/1234",
    createdAt: NOW.toISOString(),
  };
  return s;
}

const role = (name: string) => ({
  stackName: `iam-ra-prod-role-${name}`,
  roleArn: `arn:aws:iam::111122223333:role/iam-ra-prod-${name}`,
  profileArn: ARN("profile", name),
  scope: "default",
  policies: [],
  sessionDurationSeconds: 3600,
  binding: { tag: "x509Subject/OU", value: name },
  createdAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
});

describe("state documents", () => {
  it("round-trips: 2-space JSON with a final newline, validated on read", () => {
    const s = initialised();
    const text = serializeState(s);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "version": 4,');
    expect(parseState(JSON.parse(text), NOW)).toEqual({ ok: true, state: s, migratedFrom: undefined });
  });

  it("reads a v3 document as v4 (only optional fields were added), and refuses a newer one", () => {
    const s = initialised();
    expect(parseState({ ...JSON.parse(serializeState(s)), version: 3 }, NOW)).toEqual({
      ok: true,
      state: s,
      migratedFrom: "iam-ra state v3",
    });
    expect(parseState({ ...JSON.parse(serializeState(s)), version: 5 }, NOW)).toMatchObject({
      ok: false,
      issues: [expect.stringMatching(/newer than this iam-ra understands/)],
    });
  });

  it("says what is wrong with an invalid document instead of throwing", () => {
    const bad = { ...initialised(), accountId: "12", roles: { x: { stackName: 1 } } };
    const r = parseState(bad, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.issues.join("\n")).toMatch(/accountId/);
      expect(r.issues.join("\n")).toMatch(/roles\.x/);
    }
    expect(parseState({ ...initialised(), version: 9 }, NOW)).toMatchObject({
      ok: false,
      issues: [expect.stringMatching(/newer than this iam-ra/)],
    });
  });

  it("imports the Python iam-ra's v2 layout", () => {
    const python = {
      namespace: "default",
      region: "ap-southeast-2",
      version: "2.4.1",
      init: {
        stack_name: "iam-ra-default-init",
        bucket_arn: "arn:aws:s3:::iam-ra-default-init-bucket-1abc",
        kms_key_arn: "arn:aws:kms:ap-southeast-2:111122223333:key/abcd",
      },
      cas: {
        default: {
          stack_name: "iam-ra-default-ca-default",
          mode: "self-signed",
          trust_anchor_arn: "arn:aws:rolesanywhere:ap-southeast-2:111122223333:trust-anchor/ta-1",
          pca_arn: null,
        },
      },
      roles: {
        web: {
          stack_name: "iam-ra-default-role-web",
          role_arn: "arn:aws:iam::111122223333:role/iam-ra-default-web",
          profile_arn: "arn:aws:rolesanywhere:ap-southeast-2:111122223333:profile/p-1",
          policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
          scope: "default",
        },
      },
      hosts: {
        "web-1": {
          stack_name: "iam-ra-default-host-web-1",
          hostname: "web-1",
          role_name: "web",
          certificate_secret_arn: "arn:aws:secretsmanager:ap-southeast-2:111122223333:secret:c",
          private_key_secret_arn: "arn:aws:secretsmanager:ap-southeast-2:111122223333:secret:k",
        },
      },
      k8s_clusters: { prod: { name: "prod" } },
      k8s_workloads: { api: { name: "api", cluster_name: "prod", role_name: "web", namespace: "apps" } },
    };
    const r = parseState(python, NOW);
    expect(r.ok ? [] : r.issues).toEqual([]);
    if (!r.ok) return;
    expect(r.migratedFrom).toBe("python-iam-ra 2.4.1");
    expect(r.state.accountId).toBe("111122223333");
    expect(r.state.init?.bucketName).toBe("iam-ra-default-init-bucket-1abc");
    expect(r.state.cas.default).toMatchObject({
      mode: "self-signed",
      privateKeyKey: null,
      certificate: null,
    });
    expect(r.state.roles.web).toMatchObject({
      binding: null,
      policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    });
    expect(r.state.hosts["web-1"]).toMatchObject({
      role: "web",
      certificates: [],
      legacy: { stackName: "iam-ra-default-host-web-1" },
    });
    expect(r.state.k8s.workloads.api).toMatchObject({ cluster: "prod", namespace: "apps", role: "web" });
  });

  it("imports the Python iam-ra's v1 layout (one `ca`)", () => {
    const r = parseState(
      {
        namespace: "old",
        region: "us-east-1",
        version: "1.2.0",
        init: null,
        ca: {
          stack_name: "iam-ra-old-rootca",
          mode: "self-signed",
          trust_anchor_arn: ARN("trust-anchor", "t"),
          pca_arn: null,
        },
        roles: {},
        hosts: {},
      },
      NOW,
    );
    expect(r).toMatchObject({ ok: true, state: { cas: { default: { stackName: "iam-ra-old-rootca" } } } });
  });
});

describe("state store: optimistic concurrency", () => {
  it("10 concurrent updates on one namespace: all 10 recorded, none lost", async () => {
    const objects = createMemoryObjectStore();
    const store = createStateStore({
      objects,
      key: "prod/state.json",
      sleep: async () => {},
      clock: new FixedClock(NOW),
    });
    await store.create(initialised());
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.update((draft) => {
          draft.roles[`role-${i}`] = role(`role-${i}`);
          return i;
        }),
      ),
    );
    const final = await store.read();
    expect(Object.keys(final!.state.roles).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `role-${i}`).sort(),
    );
    expect(objects.conflicts).toBeGreaterThan(0); // they really raced
    expect(Math.max(...results.map((r) => r.attempts))).toBeGreaterThan(1);
  });

  it("create refuses to overwrite; update refuses before init; change can abort without writing", async () => {
    const objects = createMemoryObjectStore();
    const store = createStateStore({ objects, key: "k" });
    await expect(store.update(() => {})).rejects.toMatchObject({ code: "not-initialized" });
    await store.create(initialised());
    await expect(store.create(initialised())).rejects.toMatchObject({ code: "state-conflict" });
    const before = objects.objects.get("k")!.etag;
    await expect(
      store.update(() => {
        throw new IamRaError("in-use", "no");
      }),
    ).rejects.toMatchObject({ code: "in-use" });
    expect(objects.objects.get("k")!.etag).toBe(before);
  });

  it("never writes a document that fails the schema", async () => {
    const objects = createMemoryObjectStore();
    const store = createStateStore({ objects, key: "k" });
    await store.create(initialised());
    await expect(
      store.update((draft) => {
        (draft as { accountId: string }).accountId = "nope";
      }),
    ).rejects.toMatchObject({ code: "internal" });
    expect(JSON.parse(objects.objects.get("k")!.body).accountId).toBe("111122223333");
  });

  it("gives up after maxAttempts of conflicts with a clear error", async () => {
    const objects = createMemoryObjectStore();
    const store = createStateStore({ objects, key: "k", maxAttempts: 3, sleep: async () => {} });
    await store.create(initialised());
    const other = createStateStore({ objects, key: "k" });
    await expect(
      store.update(async (draft) => {
        await other.update((d) => {
          d.k8s.clusters[`c${Math.random()}`] = { name: "c", createdAt: NOW.toISOString() };
        });
        draft.roles.x = role("x");
      }),
    ).rejects.toMatchObject({ code: "state-conflict", hint: expect.stringMatching(/retry/) });
  });
});
