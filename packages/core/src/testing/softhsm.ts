import { execFileSync } from "node:child_process";
import { createPublicKey, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resetPkcs11Sessions } from "../pkcs11/key.ts";

/**
 * What a token reset (a device unplugged and back, a daemon restart) does to a process holding
 * PKCS#11 sessions: every session of every module this process loaded is closed under it, so its
 * handles are invalid on the next use.
 * @public
 */
export function resetTokenSessions(): void {
  resetPkcs11Sessions();
}

/** Where Debian's softhsm2 package puts its PKCS#11 module. @public */
export const SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

/**
 * A SoftHSM2 store in a temporary directory, driven with Debian's own tools (`softhsm2-util`,
 * OpenSC's `pkcs11-tool`), so keys are made inside tokens by code we did not write.
 * @public
 */
export interface SoftHsm {
  /** The PKCS#11 module to load. */
  module: string;
  /** The SOFTHSM2_CONF file; set it in `process.env` before the module is first loaded. */
  conf: string;
  /** Initializes a token with a user PIN (SO PIN `so-${pin}`). */
  initToken(label: string, pin: string): void;
  /**
   * Generates a non-extractable key pair inside a token; returns its public key.
   * `keyType` as pkcs11-tool names it: `rsa:2048`, `EC:prime256v1`, `EC:secp384r1`, `EC:secp521r1`.
   */
  generateKey(token: string, pin: string, key: { keyType: string; label: string; id: string }): KeyObject;
  /** Stores a certificate (DER) on a token as a certificate object. */
  writeCertificate(token: string, pin: string, der: Uint8Array, object: { label: string; id: string }): void;
  /** The tools' listing of a token's objects (for assertions about extractability). */
  listObjects(token: string, pin: string): string;
  cleanup(): void;
}

/** Whether SoftHSM2 and pkcs11-tool are installed. @public */
export const hasSoftHsm = (): boolean =>
  existsSync(SOFTHSM_MODULE) &&
  ["softhsm2-util", "pkcs11-tool"].every((tool) => {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  });

const CURVE_OIDS: Record<string, string> = {
  "06082a8648ce3d030107": "P-256",
  "06052b81040022": "P-384",
  "06052b81040023": "P-521",
};

/** Runs OpenSC's pkcs11-tool on a module; its stdout. @internal */
export type Pkcs11Tool = (args: string[]) => Buffer;

/** A pkcs11-tool runner for a module and environment. @internal */
export function createPkcs11Tool(module: string, env: NodeJS.ProcessEnv): Pkcs11Tool {
  return (args) =>
    execFileSync("pkcs11-tool", ["--module", module, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * The public key of a token's key pair, by label: RSA exported by pkcs11-tool; EC rebuilt from
 * EC_POINT and EC_PARAMS (pkcs11-tool cannot export EC public keys with OpenSSL 3). @internal
 */
export function readTokenPublicKey(
  tool: Pkcs11Tool,
  token: string,
  label: string,
  scratch: string,
): KeyObject {
  // pkcs11-tool lists every public key whatever the filters say: pick the one with this label.
  const listing = tool(["--token-label", token, "--list-objects", "--type", "pubkey"]).toString();
  const block = listing
    .split(/^(?=Public Key Object)/m)
    .find((b) => b.split("\n").some((line) => line.trim().replace(/\s+/g, " ") === `label: ${label}`));
  if (!block) throw new Error(`pkcs11-tool lists no public key labelled ${label}`);
  if (/^Public Key Object; RSA/.test(block)) {
    tool(["--token-label", token, "--read-object", "--type", "pubkey", "--label", label, "-o", scratch]);
    return createPublicKey({ key: readFileSync(scratch), format: "der", type: "spki" });
  }
  const point = Buffer.from(/EC_POINT:\s+([0-9a-f]+)/.exec(block)![1]!, "hex");
  const curve = CURVE_OIDS[/EC_PARAMS:\s+([0-9a-f]+)/.exec(block)![1]!]!;
  // EC_POINT is an OCTET STRING holding the uncompressed point 04 || x || y.
  const offset = point[1]! & 0x80 ? 2 + (point[1]! & 0x7f) : 2;
  const raw = point.subarray(offset + 1);
  const half = raw.length / 2;
  return createPublicKey({
    key: {
      kty: "EC",
      crv: curve,
      x: raw.subarray(0, half).toString("base64url"),
      y: raw.subarray(half).toString("base64url"),
    },
    format: "jwk",
  });
}

/**
 * Creates an empty SoftHSM2 store in a temporary directory.
 * @public
 */
export function createSoftHsm(): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-softhsm-"));
  const tokens = join(dir, "tokens");
  mkdirSync(tokens);
  const conf = join(dir, "softhsm2.conf");
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const tool = createPkcs11Tool(SOFTHSM_MODULE, env);
  return {
    module: SOFTHSM_MODULE,
    conf,
    initToken(label, pin) {
      execFileSync(
        "softhsm2-util",
        ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", `so-${pin}`],
        {
          env,
          stdio: "ignore",
        },
      );
    },
    generateKey(token, pin, key) {
      tool([
        "--token-label",
        token,
        "--login",
        "--pin",
        pin,
        "--keypairgen",
        "--key-type",
        key.keyType,
        "--label",
        key.label,
        "--id",
        key.id,
      ]);
      return readTokenPublicKey(tool, token, key.label, join(dir, `${token}-${key.id}.pub.der`));
    },
    writeCertificate(token, pin, der, object) {
      const file = join(dir, `${token}-${object.id}.cert.der`);
      writeFileSync(file, der);
      tool([
        "--token-label",
        token,
        "--login",
        "--pin",
        pin,
        "--write-object",
        file,
        "--type",
        "cert",
        "--label",
        object.label,
        "--id",
        object.id,
      ]);
    },
    listObjects(token, pin) {
      return tool(["--token-label", token, "--login", "--pin", pin, "--list-objects"]).toString();
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
