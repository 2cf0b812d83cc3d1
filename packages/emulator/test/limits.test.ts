import { createTestPki, type TestPki } from "@iam-ra/core/testing";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type Emulator, type EmulatorOptions, startEmulator } from "../src/index.ts";
import { SERVICE_CALLER_HEADER } from "../src/validation.ts";

// AWS's limits (botocore's rolesanywhere model and the documented quotas), each checked over HTTP
// as any client sends it: raw JSON, so no SDK-side validation stands in for the emulator's.
const AUTH =
  "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=00";
const ROLE = "arn:aws:iam::123456789012:role/limits";

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator(options);
  onTestFinished(() => emu.close());
  return emu;
}

interface Answer {
  status: number;
  type: string | null;
  message: string;
  // biome-ignore lint/suspicious/noExplicitAny: the control plane's JSON, read field by field
  body: any;
}

async function call(
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: AUTH, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : {};
  return {
    status: res.status,
    type: res.headers.get("x-amzn-errortype"),
    message: parsed.message,
    body: parsed,
  };
}

const rejected = (answer: Answer, message: RegExp) => {
  expect({ status: answer.status, type: answer.type }).toEqual({ status: 400, type: "ValidationException" });
  expect(answer.message).toMatch(message);
};

const anchorBody = (name: string, pem = pki.root.certificatePem) => ({
  name,
  source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: pem } },
});

describe("names (ResourceName: 1–255 of [ a-zA-Z0-9-_])", () => {
  it("are checked on trust anchors, profiles and CRLs", async () => {
    const emu = await start();
    expect((await call(emu, "POST", "/trustanchors", anchorBody("a".repeat(255)))).status).toBe(201);
    rejected(
      await call(emu, "POST", "/trustanchors", anchorBody("a".repeat(256))),
      /length between 1 and 255/,
    );
    rejected(await call(emu, "POST", "/trustanchors", anchorBody("")), /length between 1 and 255/);
    rejected(await call(emu, "POST", "/trustanchors", anchorBody("dotted.name")), /regular expression/);
    rejected(await call(emu, "POST", "/profiles", { name: "a/b", roleArns: [ROLE] }), /regular expression/);
    const { body } = await call(emu, "POST", "/profiles", { name: "ok name_1-2", roleArns: [ROLE] });
    rejected(
      await call(emu, "PATCH", `/profile/${body.profile.profileId}`, { name: "x".repeat(256) }),
      /255/,
    );
  });
});

describe("tags", () => {
  it("keys and values follow the model's pattern; at most 50; aws: is reserved but for a service", async () => {
    const emu = await start();
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: "v" }));
    expect(
      (await call(emu, "POST", "/profiles", { name: "p50", roleArns: [ROLE], tags: tags(50) })).status,
    ).toBe(201);
    rejected(
      await call(emu, "POST", "/profiles", { name: "p51", roleArns: [ROLE], tags: tags(51) }),
      /at most 50/,
    );
    rejected(
      await call(emu, "POST", "/profiles", {
        name: "p",
        roleArns: [ROLE],
        tags: [{ key: "a#b", value: "v" }],
      }),
      /regular expression/,
    );
    rejected(
      await call(emu, "POST", "/profiles", {
        name: "p",
        roleArns: [ROLE],
        tags: [{ key: "k", value: "a;b" }],
      }),
      /regular expression/,
    );
    rejected(
      await call(emu, "POST", "/profiles", {
        name: "p",
        roleArns: [ROLE],
        tags: [{ key: "k".repeat(129), value: "v" }],
      }),
      /1–128/,
    );
    rejected(
      await call(emu, "POST", "/profiles", {
        name: "p",
        roleArns: [ROLE],
        tags: [{ key: "AWS:team", value: "v" }],
      }),
      /reserved/,
    );
    const { body } = await call(emu, "POST", "/profiles", { name: "t", roleArns: [ROLE] });
    const resourceArn = body.profile.profileArn;
    rejected(
      await call(emu, "POST", "/TagResource", { resourceArn, tags: [{ key: "aws:x", value: "v" }] }),
      /reserved/,
    );
    // CloudFormation (the moto plugin stands in for it) sets its system tags.
    const cfn = { [SERVICE_CALLER_HEADER]: "cloudformation.amazonaws.com" };
    const system = [{ key: "aws:cloudformation:stack-name", value: "s" }];
    expect((await call(emu, "POST", "/TagResource", { resourceArn, tags: system }, cfn)).status).toBe(200);
    rejected(
      await call(emu, "POST", "/UntagResource", { resourceArn, tagKeys: ["aws:cloudformation:stack-name"] }),
      /reserved/,
    );
    rejected(
      await call(emu, "POST", "/UntagResource", {
        resourceArn,
        tagKeys: Array.from({ length: 201 }, (_, i) => `k${i}`),
      }),
      /less than or equal to 200/,
    );
    expect(
      (await call(emu, "GET", `/ListTagsForResource?resourceArn=${encodeURIComponent(resourceArn)}`)).body
        .tags,
    ).toEqual(system);
  });
});

describe("profiles", () => {
  it("hold at most 250 roles and 50 managed policies (ARNs of 1–200 characters)", async () => {
    const emu = await start();
    const roles = (n: number) => Array.from({ length: n }, (_, i) => `arn:aws:iam::123456789012:role/r${i}`);
    const policies = (n: number) => Array.from({ length: n }, (_, i) => `arn:aws:iam::aws:policy/P${i}`);
    const { body, status } = await call(emu, "POST", "/profiles", {
      name: "full",
      roleArns: roles(250),
      managedPolicyArns: policies(50),
    });
    expect(status).toBe(201);
    rejected(
      await call(emu, "POST", "/profiles", { name: "r", roleArns: roles(251) }),
      /less than or equal to 250/,
    );
    rejected(
      await call(emu, "POST", "/profiles", { name: "m", roleArns: [ROLE], managedPolicyArns: policies(51) }),
      /less than or equal to 50/,
    );
    rejected(
      await call(emu, "PATCH", `/profile/${body.profile.profileId}`, {
        managedPolicyArns: ["x".repeat(201)],
      }),
      /between 1 and 200/,
    );
    rejected(await call(emu, "PATCH", `/profile/${body.profile.profileId}`, { roleArns: roles(251) }), /250/);
  });

  it("take a session policy of 1–100,000 characters", async () => {
    const emu = await start();
    const policy = JSON.stringify({ Version: "2012-10-17", Statement: [] });
    const { body } = await call(emu, "POST", "/profiles", {
      name: "s",
      roleArns: [ROLE],
      sessionPolicy: policy,
    });
    expect(body.profile.sessionPolicy).toBe(policy);
    rejected(
      await call(emu, "POST", "/profiles", {
        name: "s2",
        roleArns: [ROLE],
        sessionPolicy: "x".repeat(100_001),
      }),
      /between 1 and 100000/,
    );
    rejected(
      await call(emu, "PATCH", `/profile/${body.profile.profileId}`, { sessionPolicy: "" }),
      /between 1/,
    );
  });

  it("are limited to 250 per account (adjustable: the quotas option)", async () => {
    const emu = await start();
    for (let i = 0; i < 250; i++)
      expect((await call(emu, "POST", "/profiles", { name: `p${i}`, roleArns: [ROLE] })).status).toBe(201);
    rejected(await call(emu, "POST", "/profiles", { name: "over", roleArns: [ROLE] }), /Quota exceeded.*250/);
    const raised = await start({ quotas: { profiles: 1 } });
    expect((await call(raised, "POST", "/profiles", { name: "one", roleArns: [ROLE] })).status).toBe(201);
    rejected(await call(raised, "POST", "/profiles", { name: "two", roleArns: [ROLE] }), /Quota exceeded.*1/);
  });
});

describe("trust anchors", () => {
  it("hold a bundle of at most 2 certificates in at most 16,000 characters", async () => {
    const emu = await start();
    const two = `${pki.root.certificatePem}${pki.intermediate.certificatePem}`;
    expect((await call(emu, "POST", "/trustanchors", anchorBody("two", two))).status).toBe(201);
    rejected(
      await call(emu, "POST", "/trustanchors", anchorBody("three", `${two}${pki.root.certificatePem}`)),
      /at most 2 certificates/,
    );
    const padded = `${pki.root.certificatePem}${"\n".repeat(16_001 - pki.root.certificatePem.length)}`;
    rejected(
      await call(emu, "POST", "/trustanchors", anchorBody("big", padded)),
      /less than or equal to 16000/,
    );
  });

  it("are limited to 50 per account (adjustable)", async () => {
    const emu = await start();
    for (let i = 0; i < 50; i++)
      expect((await call(emu, "POST", "/trustanchors", anchorBody(`a${i}`))).status).toBe(201);
    rejected(await call(emu, "POST", "/trustanchors", anchorBody("over")), /Quota exceeded.*50/);
    const raised = await start({ quotas: { trustAnchors: 51 } });
    for (let i = 0; i < 51; i++)
      expect((await call(raised, "POST", "/trustanchors", anchorBody(`a${i}`))).status).toBe(201);
  });
});

describe("CRLs", () => {
  it("are 1–300,000 bytes, at most 2 per trust anchor; UpdateCrl checks its data as ImportCrl does", async () => {
    const emu = await start();
    const { body } = await call(emu, "POST", "/trustanchors", anchorBody("crls"));
    const trustAnchorArn = body.trustAnchor.trustAnchorArn;
    // The size check comes before parsing: a DER SEQUENCE tag and filler.
    const blob = (bytes: number) =>
      Buffer.concat([Buffer.from([0x30]), Buffer.alloc(bytes - 1)]).toString("base64");
    rejected(
      await call(emu, "POST", "/crls", { name: "big", trustAnchorArn, crlData: blob(300_001) }),
      /300000/,
    );
    const first = await call(emu, "POST", "/crls", { name: "c1", trustAnchorArn, crlData: blob(300_000) });
    expect(first.status).toBe(201);
    expect((await call(emu, "POST", "/crls", { name: "c2", trustAnchorArn, crlData: blob(10) })).status).toBe(
      201,
    );
    rejected(
      await call(emu, "POST", "/crls", { name: "c3", trustAnchorArn, crlData: blob(10) }),
      /CRLs per trust anchor/,
    );
    const id = first.body.crl.crlId;
    rejected(await call(emu, "PATCH", `/crl/${id}`, { crlData: blob(300_001) }), /300000/);
    rejected(
      await call(emu, "PATCH", `/crl/${id}`, { crlData: Buffer.from("not a crl").toString("base64") }),
      /CRL/,
    );
  });
});

describe("List calls", () => {
  it("take a nextToken of at most 10,000 characters", async () => {
    const emu = await start();
    rejected(await call(emu, "GET", `/profiles?nextToken=${"A".repeat(10_001)}`), /between 1 and 10000/);
  });
});
