/**
 * In-memory fakes of every admin port (CloudFormation, S3, SSM, KMS, Secrets Manager, Private CA,
 * Roles Anywhere reads), wired into one {@link AdminDeps}: the admin workflows run against them in
 * milliseconds. The fake CloudFormation interprets our templates (parameters, conditions, Ref,
 * GetAtt, Sub, Join, If) and applies the side effects the workflows read back: SSM parameters,
 * S3 buckets (a non-empty one cannot be deleted), trust anchors and profiles.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { AdminDeps, BucketPort, PcaPort, SecretsPort } from "../../src/admin/ports.ts";
import type {
  CloudFormationPort,
  StackChange,
  StackDescription,
  StackEvent,
  StackInput,
} from "../../src/cloudformation/deploy.ts";
import type { KmsPort } from "../../src/x509/envelope.ts";

type Json = unknown;
const NO_VALUE = Symbol("AWS::NoValue");

interface Resource {
  type: string;
  physicalId: string;
  properties: Record<string, Json>;
  attrs: Record<string, string>;
}

interface FakeStack {
  stackId: string;
  status: string;
  statusReason: string | undefined;
  templateBody: string;
  parameters: Record<string, string>;
  resources: Map<string, Resource>;
  outputs: Record<string, string>;
  events: StackEvent[];
}

interface ChangeSet {
  input: StackInput & { type: "CREATE" | "UPDATE" };
  status: string;
  statusReason: string | undefined;
  changes: StackChange[];
}

/** Everything the fakes hold, for assertions. */
export interface FakeAws {
  deps: AdminDeps;
  stacks: Map<string, FakeStack>;
  parameters: Map<string, string>;
  buckets: Map<string, Map<string, { body: string; etag: string }>>;
  secrets: Map<string, { arn: string; value: string; kmsKeyArn: string; tags: Record<string, string> }>;
  retiredKeys: Map<string, number>;
  trustAnchors: Map<string, Record<string, Json>>;
  revokedInPca: string[];
  progress: string[];
  /** CloudFormation API calls, by name, in order. */
  calls: string[];
  /** The next execution of a change set for this stack fails with this reason (then rolls back). */
  failNextDeploy(stackName: string, reason: string): void;
  /** Trust anchor ARNs name this region (default: the namespace's), as a Roles Anywhere in another region would. */
  anchorRegion: string;
  clock: { now(): Date; advance(ms: number): void };
}

export interface FakeAwsOptions {
  namespace?: string;
  region?: string;
  accountId?: string;
  /** A Private CA the fakes answer for: describe, issue (with this issuer), revoke. */
  pca?: PcaPort;
}

export function createFakeAws(options: FakeAwsOptions = {}): FakeAws {
  const region = options.region ?? "eu-west-1";
  const accountId = options.accountId ?? "123456789012";
  let now = Date.parse("2026-06-01T12:00:00Z");
  const clock = {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
  const stacks = new Map<string, FakeStack>();
  const changeSets = new Map<string, ChangeSet>();
  const parameters = new Map<string, string>();
  const buckets = new Map<string, Map<string, { body: string; etag: string }>>();
  const secrets: FakeAws["secrets"] = new Map();
  const retiredKeys = new Map<string, number>();
  const trustAnchors = new Map<string, Record<string, Json>>();
  const profiles = new Map<string, Record<string, Json>>();
  const failures = new Map<string, string>();
  const progress: string[] = [];
  const calls: string[] = [];
  const revokedInPca: string[] = [];

  const world: FakeAws = {
    deps: undefined as unknown as AdminDeps,
    stacks,
    parameters,
    buckets,
    secrets,
    retiredKeys,
    trustAnchors,
    revokedInPca,
    progress,
    calls,
    failNextDeploy: (stackName, reason) => failures.set(stackName, reason),
    anchorRegion: region,
    clock,
  };

  const event = (stack: FakeStack, logical: string, type: string, status: string, reason?: string) => {
    stack.events.unshift({
      eventId: randomUUID(),
      timestamp: clock.now(),
      logicalResourceId: logical,
      resourceType: type,
      status,
      reason,
    });
  };

  /** Creates a resource's side effects; returns its physical id and attributes. */
  function create(stackName: string, logical: string, type: string, props: Record<string, Json>): Resource {
    const id = randomUUID();
    const base = `${stackName}-${logical}-${id.slice(0, 8)}`.toLowerCase();
    switch (type) {
      case "AWS::S3::Bucket": {
        const name = typeof props.BucketName === "string" ? props.BucketName : base;
        buckets.set(name, buckets.get(name) ?? new Map());
        return { type, physicalId: name, properties: props, attrs: { Arn: `arn:aws:s3:::${name}` } };
      }
      case "AWS::KMS::Key":
        return {
          type,
          physicalId: id,
          properties: props,
          attrs: { Arn: `arn:aws:kms:${region}:${accountId}:key/${id}`, KeyId: id },
        };
      case "AWS::SSM::Parameter": {
        const name = String(props.Name);
        parameters.set(name, String(props.Value));
        return { type, physicalId: name, properties: props, attrs: {} };
      }
      case "AWS::IAM::Role": {
        const name = typeof props.RoleName === "string" ? props.RoleName : base;
        return {
          type,
          physicalId: name,
          properties: props,
          attrs: { Arn: `arn:aws:iam::${accountId}:role/${name}`, RoleId: `AROA${id.slice(0, 8)}` },
        };
      }
      case "AWS::RolesAnywhere::TrustAnchor": {
        const arn = `arn:aws:rolesanywhere:${world.anchorRegion}:${accountId}:trust-anchor/${id}`;
        trustAnchors.set(arn, props);
        return { type, physicalId: id, properties: props, attrs: { TrustAnchorArn: arn, TrustAnchorId: id } };
      }
      case "AWS::RolesAnywhere::Profile": {
        const arn = `arn:aws:rolesanywhere:${region}:${accountId}:profile/${id}`;
        profiles.set(arn, props);
        return { type, physicalId: id, properties: props, attrs: { ProfileArn: arn, ProfileId: id } };
      }
      case "AWS::RolesAnywhere::CRL":
        return {
          type,
          physicalId: id,
          properties: props,
          attrs: { CrlId: id, Arn: `arn:aws:rolesanywhere:${region}:${accountId}:crl/${id}` },
        };
      default:
        return { type, physicalId: base, properties: props, attrs: {} };
    }
  }

  /** Undoes a resource's side effects; returns a failure reason when AWS would refuse. */
  function remove(resource: Resource): string | undefined {
    switch (resource.type) {
      case "AWS::S3::Bucket": {
        const objects = buckets.get(resource.physicalId);
        if (objects && objects.size > 0) return "The bucket you tried to delete is not empty";
        buckets.delete(resource.physicalId);
        return undefined;
      }
      case "AWS::SSM::Parameter":
        parameters.delete(resource.physicalId);
        return undefined;
      case "AWS::RolesAnywhere::TrustAnchor":
        trustAnchors.delete(resource.attrs.TrustAnchorArn!);
        return undefined;
      case "AWS::RolesAnywhere::Profile":
        profiles.delete(resource.attrs.ProfileArn!);
        return undefined;
      default:
        return undefined;
    }
  }

  const cfn: CloudFormationPort = {
    async describeStack(name): Promise<StackDescription | undefined> {
      calls.push("DescribeStacks");
      const s = stacks.get(name);
      if (!s || s.status === "DELETE_COMPLETE") return undefined;
      return {
        stackId: s.stackId,
        status: s.status,
        statusReason: s.statusReason,
        outputs: { ...s.outputs },
      };
    },
    async describeStackEvents(name) {
      calls.push("DescribeStackEvents");
      return [...(stacks.get(name)?.events ?? [])];
    },
    async createChangeSet(input) {
      calls.push("CreateChangeSet");
      const existing = stacks.get(input.stackName);
      if (input.type === "CREATE") {
        if (existing && existing.status !== "DELETE_COMPLETE")
          throw new Error(`Stack ${input.stackName} exists`);
        stacks.set(input.stackName, {
          stackId: `arn:aws:cloudformation:${region}:${accountId}:stack/${input.stackName}/${randomUUID()}`,
          status: "REVIEW_IN_PROGRESS",
          statusReason: undefined,
          templateBody: "",
          parameters: {},
          resources: new Map(),
          outputs: {},
          events: [],
        });
      } else if (!existing) throw new Error(`Stack ${input.stackName} does not exist`);
      const unchanged =
        input.type === "UPDATE" &&
        existing!.templateBody === input.templateBody &&
        JSON.stringify(existing!.parameters) === JSON.stringify(input.parameters);
      const template = JSON.parse(input.templateBody) as { Resources: Record<string, { Type: string }> };
      const before = existing?.resources ?? new Map<string, Resource>();
      const changes: StackChange[] = [];
      for (const [logical, r] of Object.entries(template.Resources)) {
        const action = before.has(logical) ? "Modify" : "Add";
        if (action === "Add" || !unchanged)
          changes.push({ action, logicalResourceId: logical, resourceType: r.Type, replacement: undefined });
      }
      for (const [logical, r] of before)
        if (!(logical in template.Resources))
          changes.push({
            action: "Remove",
            logicalResourceId: logical,
            resourceType: r.type,
            replacement: undefined,
          });
      changeSets.set(`${input.stackName}/${input.changeSetName}`, {
        input,
        status: unchanged ? "FAILED" : "CREATE_COMPLETE",
        statusReason: unchanged ? "The submitted information didn't contain changes." : undefined,
        changes,
      });
      return "created";
    },
    async describeChangeSet(stackName, changeSetName) {
      calls.push("DescribeChangeSet");
      const cs = changeSets.get(`${stackName}/${changeSetName}`);
      if (!cs) throw new Error(`ChangeSet ${changeSetName} does not exist`);
      return { status: cs.status, statusReason: cs.statusReason, changes: cs.changes };
    },
    async executeChangeSet(stackName, changeSetName) {
      calls.push("ExecuteChangeSet");
      const cs = changeSets.get(`${stackName}/${changeSetName}`);
      const stack = stacks.get(stackName);
      if (!cs || !stack) throw new Error(`ChangeSet ${changeSetName} does not exist`);
      changeSets.delete(`${stackName}/${changeSetName}`);
      apply(stack, cs.input);
    },
    async deleteChangeSet(stackName, changeSetName) {
      calls.push("DeleteChangeSet");
      changeSets.delete(`${stackName}/${changeSetName}`);
    },
    async deleteStack(stackName) {
      calls.push("DeleteStack");
      const stack = stacks.get(stackName);
      if (!stack || stack.status === "DELETE_COMPLETE") return;
      for (const [logical, r] of [...stack.resources].reverse()) {
        const reason = remove(r);
        if (reason) {
          event(stack, logical, r.type, "DELETE_FAILED", reason);
          stack.status = "DELETE_FAILED";
          stack.statusReason = reason;
          return;
        }
        stack.resources.delete(logical);
        event(stack, logical, r.type, "DELETE_COMPLETE");
      }
      stack.status = "DELETE_COMPLETE";
    },
  };

  /** Executes a change set: resolves the template against its parameters and (re)creates resources. */
  function apply(stack: FakeStack, input: StackInput & { type: "CREATE" | "UPDATE" }) {
    const create_ = input.type === "CREATE";
    const failure = failures.get(input.stackName);
    if (failure) {
      failures.delete(input.stackName);
      event(
        stack,
        input.stackName,
        "AWS::CloudFormation::Stack",
        create_ ? "CREATE_FAILED" : "UPDATE_FAILED",
        failure,
      );
      stack.status = create_ ? "ROLLBACK_COMPLETE" : "UPDATE_ROLLBACK_COMPLETE";
      return;
    }
    const template = JSON.parse(input.templateBody) as {
      Parameters?: Record<string, { Type: string; Default?: Json }>;
      Conditions?: Record<string, Json>;
      Resources: Record<string, { Type: string; Condition?: string; Properties?: Record<string, Json> }>;
      Outputs?: Record<string, { Value: Json; Condition?: string }>;
    };
    const params: Record<string, Json> = {};
    for (const [name, p] of Object.entries(template.Parameters ?? {})) {
      const raw = input.parameters[name] ?? (p.Default === undefined ? undefined : String(p.Default));
      if (raw === undefined) throw new Error(`Parameters: [${name}] must have values`);
      params[name] = p.Type === "CommaDelimitedList" ? raw.split(",") : raw;
    }
    const conditions: Record<string, boolean> = {};
    const resources = new Map<string, Resource>();
    const previous = stack.resources;
    const resolve = (v: Json): Json => {
      if (Array.isArray(v)) return v.map(resolve).filter((x) => x !== NO_VALUE);
      if (v === null || typeof v !== "object") return v;
      const o = v as Record<string, Json>;
      const keys = Object.keys(o);
      if (keys.length === 1) {
        const [k] = keys as [string];
        const a = o[k];
        if (k === "Ref") return ref(String(a));
        if (k === "Fn::GetAtt") {
          const [l, attr] = a as [string, string];
          return attribute(l, attr);
        }
        if (k === "Fn::Sub") {
          const [text, vars] = Array.isArray(a) ? (a as [string, Record<string, Json>]) : [String(a), {}];
          return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
            if (name in vars) return String(resolve(vars[name]));
            const dot = name.indexOf(".");
            return dot > 0 && !name.startsWith("AWS::")
              ? attribute(name.slice(0, dot), name.slice(dot + 1))
              : String(ref(name));
          });
        }
        if (k === "Fn::Join") {
          const [sep, list] = a as [string, Json];
          return (resolve(list) as Json[]).join(sep);
        }
        if (k === "Fn::If") {
          const [c, yes, no] = a as [string, Json, Json];
          return resolve(condition(c) ? yes : no);
        }
        if (k === "Fn::Equals") {
          const [x, y] = a as [Json, Json];
          return JSON.stringify(resolve(x)) === JSON.stringify(resolve(y));
        }
        if (k === "Fn::Not") return !resolve((a as Json[])[0]);
        if (k === "Fn::Or") return (a as Json[]).some((c) => resolve(c) === true);
        if (k === "Fn::And") return (a as Json[]).every((c) => resolve(c) === true);
        if (k === "Condition") return condition(String(a));
      }
      const out: Record<string, Json> = {};
      for (const [key, value] of Object.entries(o)) {
        const r = resolve(value);
        if (r !== NO_VALUE) out[key] = r;
      }
      return out;
    };
    const condition = (name: string): boolean => {
      if (!(name in conditions)) {
        const c = template.Conditions?.[name];
        if (c === undefined) throw new Error(`Unresolved condition ${name}`);
        conditions[name] = resolve(c) === true;
      }
      return conditions[name]!;
    };
    const ref = (name: string): Json => {
      if (name === "AWS::Region") return region;
      if (name === "AWS::AccountId") return accountId;
      if (name === "AWS::StackName") return input.stackName;
      if (name === "AWS::Partition") return "aws";
      if (name === "AWS::URLSuffix") return "amazonaws.com";
      if (name === "AWS::NoValue") return NO_VALUE;
      if (name in params) return params[name];
      const r = resources.get(name);
      if (!r) throw new Error(`Template error: unresolved resource dependency [${name}]`);
      return r.physicalId;
    };
    const attribute = (logical: string, attr: string): string => {
      const r = resources.get(logical);
      if (!r) throw new Error(`Template error: unresolved resource dependency [${logical}]`);
      return r.attrs[attr] ?? `fake:${logical}.${attr}`;
    };
    // Declaration order suffices for our templates (each refers only to resources declared before it).
    for (const [logical, r] of Object.entries(template.Resources)) {
      if (r.Condition && !condition(r.Condition)) continue;
      const props = resolve(r.Properties ?? {}) as Record<string, Json>;
      const old = previous.get(logical);
      if (old && old.type === r.Type) {
        if (old.type === "AWS::SSM::Parameter") parameters.set(old.physicalId, String(props.Value));
        if (old.type === "AWS::RolesAnywhere::TrustAnchor")
          trustAnchors.set(old.attrs.TrustAnchorArn!, props);
        if (old.type === "AWS::RolesAnywhere::Profile") profiles.set(old.attrs.ProfileArn!, props);
        resources.set(logical, { ...old, properties: props });
        event(stack, logical, r.Type, "UPDATE_COMPLETE");
      } else {
        resources.set(logical, create(input.stackName, logical, r.Type, props));
        event(stack, logical, r.Type, "CREATE_COMPLETE");
      }
    }
    for (const [logical, old] of previous) if (!resources.has(logical)) remove(old);
    const outputs: Record<string, string> = {};
    for (const [name, o] of Object.entries(template.Outputs ?? {})) {
      if (o.Condition && !condition(o.Condition)) continue;
      outputs[name] = String(resolve(o.Value));
    }
    Object.assign(stack, {
      status: create_ ? "CREATE_COMPLETE" : "UPDATE_COMPLETE",
      statusReason: undefined,
      templateBody: input.templateBody,
      parameters: { ...input.parameters },
      resources,
      outputs,
    });
  }

  const etag = (body: string) => `"${createHash("md5").update(body).digest("hex")}"`;
  const bucket = (name: string): BucketPort => {
    const objects = () => {
      const b = buckets.get(name);
      if (!b) throw new Error(`NoSuchBucket: ${name}`);
      return b;
    };
    return {
      async get(key) {
        const o = objects().get(key);
        return o ? { ...o } : undefined;
      },
      async put(key, body, condition) {
        const current = objects().get(key);
        const ok = "ifMatch" in condition ? current?.etag === condition.ifMatch : current === undefined;
        if (!ok) return "conflict";
        objects().set(key, { body, etag: etag(body) });
        return { etag: etag(body) };
      },
      async write(key, body) {
        const text = typeof body === "string" ? body : Buffer.from(body).toString("latin1");
        objects().set(key, { body: text, etag: etag(text) });
      },
      async read(key) {
        return objects().get(key)?.body;
      },
      async remove(key) {
        objects().delete(key);
      },
      async empty() {
        buckets.get(name)?.clear();
      },
      async destroy() {
        buckets.delete(name);
      },
    };
  };

  // KMS: a data key's "ciphertext" is a handle; decrypt checks the key and the encryption context.
  const dataKeys = new Map<string, { plaintext: Uint8Array; context: string; keyArn: string }>();
  const kms: KmsPort = {
    async generateDataKey(keyArn, context) {
      if (retiredKeys.has(keyArn)) throw new Error(`KMSInvalidStateException: ${keyArn} is pending deletion`);
      const plaintext = randomBytes(32);
      const handle = randomBytes(16);
      dataKeys.set(handle.toString("hex"), { plaintext, context: JSON.stringify(context), keyArn });
      return { plaintext: Uint8Array.from(plaintext), ciphertext: handle };
    },
    async decrypt(ciphertext, context, keyArn) {
      const k = dataKeys.get(Buffer.from(ciphertext).toString("hex"));
      if (!k || k.keyArn !== keyArn || k.context !== JSON.stringify(context))
        throw new Error("InvalidCiphertextException");
      return Uint8Array.from(k.plaintext);
    },
  };

  const secretsPort: SecretsPort = {
    async put(name, value, kmsKeyArn, tags) {
      const arn =
        secrets.get(name)?.arn ??
        `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${randomBytes(3).toString("hex")}`;
      secrets.set(name, { arn, value, kmsKeyArn, tags });
      return arn;
    },
    async get(nameOrArn) {
      return [...secrets.entries()].find(([n, s]) => n === nameOrArn || s.arn === nameOrArn)?.[1].value;
    },
    async remove(nameOrArn) {
      for (const [n, s] of secrets) if (n === nameOrArn || s.arn === nameOrArn) secrets.delete(n);
    },
  };

  const noPca: PcaPort = {
    describe: async () => {
      throw new Error("ResourceNotFoundException: no Private CA in this fake");
    },
    issue: async () => {
      throw new Error("no Private CA in this fake");
    },
    revoke: async (_arn, serial) => {
      revokedInPca.push(serial);
    },
    caCertificate: async () => {
      throw new Error("no Private CA in this fake");
    },
    publishedCrl: async () => undefined,
    publishesCrl: async () => false,
  };

  world.deps = {
    namespace: options.namespace ?? "test",
    region,
    accountId: async () => accountId,
    cfn,
    bucket: (name) => bucket(name),
    parameter: async (name) => parameters.get(name),
    kms,
    retireKey: async (keyArn, days) => {
      retiredKeys.set(keyArn, days);
    },
    secrets: secretsPort,
    pca: options.pca ?? noPca,
    rolesAnywhere: {
      trustAnchor: async (arn) => {
        const p = trustAnchors.get(arn) as
          | { Enabled?: boolean; Source?: { SourceType?: string; SourceData?: Record<string, string> } }
          | undefined;
        if (!p) return undefined;
        return {
          enabled: p.Enabled !== false,
          sourceType: p.Source?.SourceType ?? "",
          certificatePem: p.Source?.SourceData?.X509CertificateData,
          pcaArn: p.Source?.SourceData?.AcmPcaArn,
        };
      },
      profile: async (arn) => {
        const p = profiles.get(arn) as
          | { Enabled?: boolean; RoleArns?: string[]; DurationSeconds?: Json }
          | undefined;
        if (!p) return undefined;
        return {
          enabled: p.Enabled !== false,
          roleArns: p.RoleArns ?? [],
          durationSeconds: Number(p.DurationSeconds ?? 3600),
        };
      },
    },
    clock,
    sleep: async (ms) => {
      clock.advance(ms);
    },
    progress: (line) => progress.push(line),
  };
  return world;
}
