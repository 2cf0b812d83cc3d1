import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromRolesAnywhere } from "@iam-ra/core";
import { createSoftHsm, hasSoftHsm, type SoftHsm } from "@iam-ra/core/testing";
import { issueCertificateForKey } from "@iam-ra/core/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld } from "./harness.ts";

// fromRolesAnywhere with a key that never leaves a SoftHSM2 token: the provider a library user
// writes, against the emulator, read by a stock SDK client.
const available = hasSoftHsm();
if (!available && process.env.CI) throw new Error("CI needs softhsm2 and opensc (see .ci/run)");

const PIN = "246810";

describe.skipIf(!available)("fromRolesAnywhere with a PKCS#11 key (SoftHSM2)", () => {
  let hsm: SoftHsm;
  beforeAll(() => {
    hsm = createSoftHsm();
    // SoftHSM reads its configuration when the module is first loaded in this process.
    process.env.SOFTHSM2_CONF = hsm.conf;
    hsm.initToken("lib", PIN);
    // Its own token for the wrong PIN: PKCS#11 logins are per token and process.
    hsm.initToken("locked-out", PIN);
  });
  afterAll(() => {
    hsm?.cleanup();
  });

  it.each([
    { keyType: "EC:prime256v1", label: "p256", id: "01" },
    { keyType: "rsa:2048", label: "rsa", id: "02" },
  ])("a stock STS client gets credentials signed on the token ($keyType)", async (key) => {
    const w = await createWorld();
    const publicKey = hsm.generateKey("lib", PIN, key);
    const { certificatePem } = await issueCertificateForKey(
      {
        subject: `CN=${key.label},OU=readers`,
        issuer: w.pki.intermediate,
        notBefore: new Date(w.clock.now().getTime() - 3_600_000),
        notAfter: new Date(w.clock.now().getTime() + 86_400_000),
      },
      publicKey,
    );
    const provider = fromRolesAnywhere({
      ...w.params,
      certificate: certificatePem,
      privateKey: `pkcs11:token=lib;object=${key.label};type=private`,
      pkcs11: { modulePath: hsm.module, pin: PIN },
      intermediates: w.pki.intermediate.certificatePem,
      endpoint: w.emu.url,
      clock: w.clock,
    });
    const sts = new STSClient({
      region: "us-east-1",
      endpoint: w.emu.url,
      credentials: provider,
      maxAttempts: 1,
    });
    const who = await sts.send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toMatch(/assumed-role\/app-reader\//);
    expect(provider.lastResult?.sourceIdentity).toBe(key.label);
  });

  it("a wrong PIN is a clear error from the provider, without the PIN", async () => {
    const w = await createWorld();
    const publicKey = hsm.generateKey("locked-out", PIN, {
      keyType: "EC:prime256v1",
      label: "wrong",
      id: "03",
    });
    const { certificatePem } = await issueCertificateForKey(
      {
        subject: "CN=wrong,OU=readers",
        issuer: w.pki.intermediate,
        notBefore: new Date(w.clock.now().getTime() - 3_600_000),
        notAfter: new Date(w.clock.now().getTime() + 86_400_000),
      },
      publicKey,
    );
    const provider = fromRolesAnywhere({
      ...w.params,
      certificate: certificatePem,
      privateKey: "pkcs11:token=locked-out;object=wrong;type=private",
      pkcs11: { modulePath: hsm.module, pin: "97531" },
      intermediates: w.pki.intermediate.certificatePem,
      endpoint: w.emu.url,
      clock: w.clock,
    });
    const error = await provider().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain('The token "locked-out" refused the user PIN.');
    expect(String(error?.message)).not.toContain("97531");
  });
});
