import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { IamRaError } from "../src/errors.ts";
import { readPinSource } from "../src/pkcs11/session.ts";
import { parsePkcs11Uri } from "../src/pkcs11/uri.ts";
import { isLoopbackHost, resolveEndpoint } from "../src/rolesanywhere/endpoint.ts";
import { resolveEndpointOption, resolveSessionInputs } from "../src/rolesanywhere/options.ts";

const BASE = { certificate: "/nonexistent/cert.pem" };

const refusal = async (
  values: Record<string, string | boolean | number>,
  env: Record<string, string> = {},
) => {
  const error = await resolveSessionInputs({ ...BASE, ...values }, env).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(IamRaError);
  return error as IamRaError;
};

describe("numeric options are bounded before any IO", () => {
  test.each([
    [{ timeout: 0 }, /--timeout must be a whole number from 100 to 120000 milliseconds, not "0"/],
    [{ timeout: "soon" }, /--timeout must be a whole number/],
    [{ timeout: 10_000_000 }, /not "10000000"/],
    [{ "max-attempts": 1_000_000 }, /--max-attempts must be a whole number from 1 to 10 attempts/],
    [{ "max-attempts": -1 }, /not "-1"/],
  ])("%j is refused with its range", async (values, message) => {
    // The passphrase file does not exist: a refusal about the number proves nothing was read first.
    const error = await refusal({ ...values, "private-key-passphrase-file": "/nonexistent/pass" });
    expect(error.code).toBe("invalid-input");
    expect(error.message).toMatch(message);
  });

  test("values in range pass through", async () => {
    const inputs = await resolveSessionInputs({ ...BASE, timeout: "2500", "max-attempts": 1 }, {});
    expect(inputs.options.timeoutMs).toBe(2500);
    expect(inputs.options.maxAttempts).toBe(1);
    expect(inputs.warnings).toEqual([]);
  });
});

describe("the endpoint follows the AWS SDKs' variables", () => {
  test("flag, then AWS_ENDPOINT_URL_ROLESANYWHERE, then AWS_ENDPOINT_URL; ignorable as in the SDKs", () => {
    const env = {
      AWS_ENDPOINT_URL_ROLESANYWHERE: "http://127.0.0.1:1",
      AWS_ENDPOINT_URL: "http://127.0.0.1:2",
    };
    expect(resolveEndpointOption({ endpoint: "http://127.0.0.1:3" }, env)).toBe("http://127.0.0.1:3");
    expect(resolveEndpointOption({}, env)).toBe("http://127.0.0.1:1");
    expect(resolveEndpointOption({}, { AWS_ENDPOINT_URL: "http://127.0.0.1:2" })).toBe("http://127.0.0.1:2");
    expect(
      resolveEndpointOption({}, { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }),
    ).toBeUndefined();
  });
});

describe("unsafe transport is refused or said out loud", () => {
  test("plain http is for loopback only unless allowed", () => {
    for (const host of ["127.0.0.1", "127.8.9.10", "localhost", "[::1]", "app.localhost"]) {
      expect(resolveEndpoint({ region: "eu-west-1", endpoint: `http://${host}:4566` }).url.protocol).toBe(
        "http:",
      );
    }
    expect(() => resolveEndpoint({ region: "eu-west-1", endpoint: "http://10.0.0.5:4566" })).toThrow(
      /plain http off this machine/,
    );
    expect(() => resolveEndpoint({ region: "eu-west-1", endpoint: "http://127.0.0.1.evil.example" })).toThrow(
      /plain http off this machine/,
    );
    expect(
      resolveEndpoint({ region: "eu-west-1", endpoint: "http://10.0.0.5", allowHttp: true }).url.host,
    ).toBe("10.0.0.5");
    expect(isLoopbackHost("128.0.0.1")).toBe(false);
  });

  test("--no-verify-ssl and allowed plain http come with warnings", async () => {
    const inputs = await resolveSessionInputs(
      { ...BASE, "no-verify-ssl": true, "allow-http": true, endpoint: "http://10.0.0.5" },
      {},
    );
    expect(inputs.warnings).toHaveLength(2);
    expect(inputs.warnings[0]).toMatch(/TLS certificate verification is off/);
    expect(inputs.warnings[1]).toMatch(/plain http/);
    expect(inputs.options.allowHttp).toBe(true);
  });
});

describe("instance properties", () => {
  test("key=value pairs, from a flag (array or comma-joined) or the variable, reach the params", async () => {
    const fromArray = await resolveSessionInputs(
      { ...BASE, "instance-properties": ["host=web-1", "env=a=b"] as unknown as string },
      {},
    );
    expect(fromArray.params.instanceProperties).toEqual({ host: "web-1", env: "a=b" });
    const joined = await resolveSessionInputs({ ...BASE, "instance-properties": "host=web-1, rack=r2" }, {});
    expect(joined.params.instanceProperties).toEqual({ host: "web-1", rack: "r2" });
    const none = await resolveSessionInputs({ ...BASE }, {});
    expect(none.params.instanceProperties).toBeUndefined();
  });

  test.each([
    ["host", /not key=value/],
    ["=v", /not key=value/],
    ["k=", /not key=value/],
    [`k=${"v".repeat(201)}`, /1–200 characters/],
    [Array.from({ length: 51 }, (_, i) => `k${i}=v`).join(","), /At most 50/],
  ])("%s is refused before any IO", async (text, message) => {
    const error = await refusal({
      "instance-properties": text,
      "private-key-passphrase-file": "/nonexistent/pass",
    });
    expect(error.code).toBe("invalid-input");
    expect(error.message).toMatch(message);
  });
});

describe("secret and CA files given by an option are read bounded: no FIFO hang, no huge read", () => {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-options-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A FIFO nobody writes to: a blocking open or read of it would never return.
  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  const huge = join(dir, "huge");
  writeFileSync(huge, "");
  truncateSync(huge, 64 * 1024 * 1024);
  const passphrase = join(dir, "passphrase");
  writeFileSync(passphrase, "correct horse\n");

  test.each([
    ["private-key-passphrase-file", fifo, /The passphrase path .*fifo is a FIFO, not a regular file/],
    ["private-key-passphrase-file", huge, /The passphrase file .*huge is larger than 4096 bytes/],
    ["ca-bundle", fifo, /The CA bundle path .*fifo is a FIFO/],
    ["ca-bundle", huge, /The CA bundle file .*huge is larger than 4194304 bytes/],
    ["pkcs11-pin-file", huge, /The PIN file .*huge is larger than 4096 bytes/],
  ])("--%s %s is refused", async (option, file, message) => {
    const error = await refusal({ certificate: "pkcs11:token=t;object=c", [option]: file });
    expect(error.code).toBe("invalid-input");
    expect(error.message).toMatch(message);
  });

  test("a passphrase file's text, without its final newline", async () => {
    const { readPassphrase } = await import("../src/rolesanywhere/options.ts");
    await expect(readPassphrase({ "private-key-passphrase-file": passphrase }, {})).resolves.toBe(
      "correct horse",
    );
  });

  test("a URI's pin-source is read the same way", async () => {
    const uri = (file: string) => parsePkcs11Uri(`pkcs11:token=t;object=k?pin-source=${file}`);
    await expect(readPinSource(uri(fifo))).rejects.toThrow(/The PIN \(pin-source\) path .*fifo is a FIFO/);
    await expect(readPinSource(uri(huge))).rejects.toThrow(/larger than 4096 bytes/);
    await expect(readPinSource(uri(passphrase))).resolves.toBe("correct horse");
  });
});
