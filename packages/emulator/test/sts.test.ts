import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { createWorld, ROLE_ARN } from "./harness.ts";

const sts = (
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
) => new STSClient({ region: "us-east-1", endpoint, credentials, maxAttempts: 1 });

describe("STS verifies SigV4 with the credentials it issued", () => {
  it("GetCallerIdentity answers with the assumed role; a wrong secret or token is refused", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    const { credentials } = await w.call(leaf);
    const who = await sts(w.emu.url, credentials).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(
      `arn:aws:sts::123456789012:assumed-role/app-reader/${leaf.certificate.serialNumber.toLowerCase()}`,
    );
    expect(who.Account).toBe("123456789012");
    await expect(
      sts(w.emu.url, { ...credentials, secretAccessKey: `${credentials.secretAccessKey}x` }).send(
        new GetCallerIdentityCommand({}),
      ),
    ).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
    });
    await expect(
      sts(w.emu.url, { ...credentials, sessionToken: "forged" }).send(new GetCallerIdentityCommand({})),
    ).rejects.toMatchObject({
      name: "InvalidClientTokenId",
    });
    await expect(
      sts(w.emu.url, { accessKeyId: "ASIAUNKNOWN000000000", secretAccessKey: "x", sessionToken: "y" }).send(
        new GetCallerIdentityCommand({}),
      ),
    ).rejects.toMatchObject({
      name: "InvalidClientTokenId",
    });
  });

  it("expired credentials are refused", async () => {
    const w = await createWorld();
    const { credentials } = await w.call(await w.pki.issueLeaf(), { durationSeconds: 900 });
    w.clock.advance(901_000);
    const err = await sts(w.emu.url, credentials)
      .send(new GetCallerIdentityCommand({}))
      .then(
        () => undefined,
        (e) => e,
      );
    // The SDK signs with the real clock, which the emulator sees as 15 minutes early: either refusal is right.
    expect(["ExpiredToken", "SignatureDoesNotMatch"]).toContain(err?.name);
  });

  it("AssumeRole chains into a role whose trust policy allows the Roles Anywhere role", async () => {
    const w = await createWorld();
    const target = "arn:aws:iam::123456789012:role/deployer";
    w.emu.putRole(target, {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: ROLE_ARN }, Action: "sts:AssumeRole" }],
    });
    const { credentials } = await w.call(await w.pki.issueLeaf());
    const chained = await sts(w.emu.url, credentials).send(
      new AssumeRoleCommand({ RoleArn: target, RoleSessionName: "chain", DurationSeconds: 900 }),
    );
    expect(chained.AssumedRoleUser?.Arn).toBe("arn:aws:sts::123456789012:assumed-role/deployer/chain");
    const who = await sts(w.emu.url, {
      accessKeyId: chained.Credentials!.AccessKeyId!,
      secretAccessKey: chained.Credentials!.SecretAccessKey!,
      sessionToken: chained.Credentials!.SessionToken!,
    }).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe("arn:aws:sts::123456789012:assumed-role/deployer/chain");
    await expect(
      sts(w.emu.url, credentials).send(
        new AssumeRoleCommand({
          RoleArn: "arn:aws:iam::123456789012:role/app-writer",
          RoleSessionName: "other",
        }),
      ),
    ).rejects.toMatchObject({ name: "AccessDenied" });
  });
});
