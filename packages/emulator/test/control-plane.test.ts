import {
  CreateProfileCommand,
  CreateTrustAnchorCommand,
  DeleteCrlCommand,
  DeleteProfileCommand,
  DeleteTrustAnchorCommand,
  DisableCrlCommand,
  DisableProfileCommand,
  DisableTrustAnchorCommand,
  EnableCrlCommand,
  EnableProfileCommand,
  EnableTrustAnchorCommand,
  GetCrlCommand,
  GetProfileCommand,
  GetSubjectCommand,
  GetTrustAnchorCommand,
  ImportCrlCommand,
  ListCrlsCommand,
  ListProfilesCommand,
  ListSubjectsCommand,
  ListTagsForResourceCommand,
  ListTrustAnchorsCommand,
  RolesAnywhereClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateCrlCommand,
  UpdateProfileCommand,
  UpdateTrustAnchorCommand,
} from "@aws-sdk/client-rolesanywhere";
import { createRolesAnywhereReader } from "@iam-ra/core/admin/aws";
import { createCrl } from "@iam-ra/core/x509";
import { describe, expect, it } from "vitest";
import { createWorld, ROLE_ARN } from "./harness.ts";

describe("@aws-sdk/client-rolesanywhere round-trips every control-plane operation", () => {
  it("trust anchors, profiles, CRLs, subjects and tags", async () => {
    const w = await createWorld();
    const client = new RolesAnywhereClient({
      region: "us-east-1",
      endpoint: w.emu.url,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
      maxAttempts: 1,
    });
    const ta = (
      await client.send(
        new CreateTrustAnchorCommand({
          name: "sdk-anchor",
          enabled: false,
          source: {
            sourceType: "CERTIFICATE_BUNDLE",
            sourceData: { x509CertificateData: w.pki.root.certificatePem },
          },
          tags: [{ key: "team", value: "platform" }],
        }),
      )
    ).trustAnchor!;
    expect(ta.trustAnchorArn).toMatch(
      /^arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor\/[0-9a-f-]{36}$/,
    );
    expect(ta.enabled).toBe(false);
    expect(ta.createdAt).toBeInstanceOf(Date);
    expect(
      (await client.send(new EnableTrustAnchorCommand({ trustAnchorId: ta.trustAnchorId }))).trustAnchor
        ?.enabled,
    ).toBe(true);
    expect(
      (await client.send(new DisableTrustAnchorCommand({ trustAnchorId: ta.trustAnchorId }))).trustAnchor
        ?.enabled,
    ).toBe(false);
    expect(
      (await client.send(new UpdateTrustAnchorCommand({ trustAnchorId: ta.trustAnchorId, name: "renamed" })))
        .trustAnchor?.name,
    ).toBe("renamed");
    expect(
      (await client.send(new GetTrustAnchorCommand({ trustAnchorId: ta.trustAnchorId }))).trustAnchor?.name,
    ).toBe("renamed");
    expect((await client.send(new ListTrustAnchorsCommand({}))).trustAnchors).toHaveLength(2);
    const paged = await client.send(new ListTrustAnchorsCommand({ pageSize: 1 }));
    expect(paged.trustAnchors).toHaveLength(1);
    expect(
      (await client.send(new ListTrustAnchorsCommand({ pageSize: 1, nextToken: paged.nextToken! })))
        .trustAnchors,
    ).toHaveLength(1);

    const profile = (
      await client.send(
        new CreateProfileCommand({
          name: "sdk-profile",
          roleArns: [ROLE_ARN],
          durationSeconds: 1800,
          enabled: true,
        }),
      )
    ).profile!;
    expect(profile.durationSeconds).toBe(1800);
    expect(
      (await client.send(new UpdateProfileCommand({ profileId: profile.profileId, durationSeconds: 43200 })))
        .profile?.durationSeconds,
    ).toBe(43200);
    expect(
      (await client.send(new DisableProfileCommand({ profileId: profile.profileId }))).profile?.enabled,
    ).toBe(false);
    expect(
      (await client.send(new EnableProfileCommand({ profileId: profile.profileId }))).profile?.enabled,
    ).toBe(true);
    expect(
      (await client.send(new GetProfileCommand({ profileId: profile.profileId }))).profile?.roleArns,
    ).toEqual([ROLE_ARN]);
    expect((await client.send(new ListProfilesCommand({}))).profiles).toHaveLength(2);

    const crlDer = await createCrl({
      issuer: w.pki.root,
      revoked: [],
      thisUpdate: w.clock.now(),
      nextUpdate: new Date(w.clock.now().getTime() + 86_400_000),
    });
    const crl = (
      await client.send(
        new ImportCrlCommand({ name: "crl", crlData: crlDer, trustAnchorArn: ta.trustAnchorArn }),
      )
    ).crl!;
    expect(Buffer.from(crl.crlData!).equals(crlDer)).toBe(true);
    expect((await client.send(new EnableCrlCommand({ crlId: crl.crlId }))).crl?.enabled).toBe(true);
    expect((await client.send(new DisableCrlCommand({ crlId: crl.crlId }))).crl?.enabled).toBe(false);
    expect((await client.send(new UpdateCrlCommand({ crlId: crl.crlId, name: "crl2" }))).crl?.name).toBe(
      "crl2",
    );
    expect((await client.send(new GetCrlCommand({ crlId: crl.crlId }))).crl?.name).toBe("crl2");
    expect((await client.send(new ListCrlsCommand({}))).crls).toHaveLength(1);

    await client.send(
      new TagResourceCommand({
        resourceArn: profile.profileArn,
        tags: [
          { key: "a", value: "1" },
          { key: "b", value: "2" },
        ],
      }),
    );
    await client.send(new UntagResourceCommand({ resourceArn: profile.profileArn, tagKeys: ["a"] }));
    expect(
      (await client.send(new ListTagsForResourceCommand({ resourceArn: profile.profileArn }))).tags,
    ).toEqual([{ key: "b", value: "2" }]);
    expect(
      (await client.send(new ListTagsForResourceCommand({ resourceArn: ta.trustAnchorArn }))).tags,
    ).toEqual([{ key: "team", value: "platform" }]);

    await w.call(await w.pki.issueLeaf());
    const subjects = (await client.send(new ListSubjectsCommand({}))).subjects!;
    expect(subjects).toHaveLength(1);
    const subject = (await client.send(new GetSubjectCommand({ subjectId: subjects[0]!.subjectId })))
      .subject!;
    expect(subject.credentials?.[0]?.seenAt).toBeInstanceOf(Date);

    await client.send(new DeleteCrlCommand({ crlId: crl.crlId }));
    await client.send(new DeleteProfileCommand({ profileId: profile.profileId }));
    await client.send(new DeleteTrustAnchorCommand({ trustAnchorId: ta.trustAnchorId }));
    await expect(
      client.send(new GetTrustAnchorCommand({ trustAnchorId: ta.trustAnchorId })),
    ).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      $metadata: { httpStatusCode: 404 },
    });
  });

  it("a SELF_SIGNED_REPOSITORY trust anchor is refused as an unsupported source", async () => {
    const w = await createWorld();
    const client = new RolesAnywhereClient({
      region: "us-east-1",
      endpoint: w.emu.url,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 1,
    });
    await expect(
      client.send(
        new CreateTrustAnchorCommand({
          name: "repo",
          source: {
            sourceType: "SELF_SIGNED_REPOSITORY",
            sourceData: { x509CertificateData: w.pki.root.certificatePem },
          },
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringMatching(/Unsupported trust anchor source type SELF_SIGNED_REPOSITORY/),
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("validation errors come back typed, as AWS sends them", async () => {
    const w = await createWorld();
    const client = new RolesAnywhereClient({
      region: "us-east-1",
      endpoint: w.emu.url,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 1,
    });
    await expect(
      client.send(new CreateProfileCommand({ name: "p", roleArns: ["not-an-arn"] })),
    ).rejects.toMatchObject({ name: "ValidationException" });
    await expect(
      client.send(new CreateProfileCommand({ name: "p", roleArns: [ROLE_ARN], durationSeconds: 50000 })),
    ).rejects.toMatchObject({ name: "ValidationException" });
    await expect(
      client.send(
        new CreateTrustAnchorCommand({
          name: "t",
          source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: "nope" } },
        }),
      ),
    ).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("unknown operations and unsigned calls are answered, not crashed", async () => {
    const w = await createWorld();
    const unknown = await fetch(`${w.emu.url}/no-such-operation`, {
      method: "POST",
      headers: { authorization: "AWS4-HMAC-SHA256 x" },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
    const unsigned = await fetch(`${w.emu.url}/trustanchors`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
  });

  it("core's own reader (what iam-ra status and doctor use) reads what the SDK wrote", async () => {
    const w = await createWorld();
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };
    const client = new RolesAnywhereClient({
      region: "us-east-1",
      endpoint: w.emu.url,
      credentials,
      maxAttempts: 1,
    });
    const reader = createRolesAnywhereReader({
      region: "us-east-1",
      endpoint: w.emu.url,
      credentials: async () => credentials,
      maxAttempts: 1,
    });
    const ta = (
      await client.send(
        new CreateTrustAnchorCommand({
          name: "read-me",
          enabled: true,
          source: {
            sourceType: "CERTIFICATE_BUNDLE",
            sourceData: { x509CertificateData: w.pki.root.certificatePem },
          },
        }),
      )
    ).trustAnchor!;
    const profile = (
      await client.send(new CreateProfileCommand({ name: "p", roleArns: [ROLE_ARN], durationSeconds: 1800 }))
    ).profile!;
    await expect(reader.trustAnchor(ta.trustAnchorArn!)).resolves.toEqual({
      enabled: true,
      sourceType: "CERTIFICATE_BUNDLE",
      certificatePem: w.pki.root.certificatePem,
      pcaArn: undefined,
    });
    await expect(reader.profile(profile.profileArn!)).resolves.toEqual({
      enabled: false,
      roleArns: [ROLE_ARN],
      durationSeconds: 1800,
    });
    await client.send(new DisableTrustAnchorCommand({ trustAnchorId: ta.trustAnchorId }));
    await client.send(new EnableProfileCommand({ profileId: profile.profileId }));
    await expect(reader.trustAnchor(ta.trustAnchorArn!)).resolves.toMatchObject({ enabled: false });
    await expect(reader.profile(profile.profileArn!)).resolves.toMatchObject({ enabled: true });
    await client.send(new DeleteTrustAnchorCommand({ trustAnchorId: ta.trustAnchorId }));
    await client.send(new DeleteProfileCommand({ profileId: profile.profileId }));
    await expect(reader.trustAnchor(ta.trustAnchorArn!)).resolves.toBeUndefined();
    await expect(reader.profile(profile.profileArn!)).resolves.toBeUndefined();
  });
});
