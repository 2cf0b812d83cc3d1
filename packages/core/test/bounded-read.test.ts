import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import { CredentialMaterialError } from "../src/errors.ts";
import { MAX_MATERIAL_FILE_BYTES, readBoundedFile } from "../src/files.ts";
import { createTestPki } from "../src/testing/index.ts";
import { readCredentialMaterial } from "../src/x509/read.ts";

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-read-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const refusal = async (path: string) => {
  const error = await readCredentialMaterial({ certificate: path }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CredentialMaterialError);
  return error as CredentialMaterialError;
};

describe("local material files are read bounded, and only when regular", () => {
  test("/dev/zero is refused as a device, not read until memory runs out", async () => {
    const error = await refusal("/dev/zero");
    expect(error.message).toBe("The certificate path /dev/zero is a device, not a regular file.");
    expect(error.hint).toMatch(/regular certificate file/);
  });

  test("a FIFO with no writer is refused at once instead of hanging", async () => {
    const fifo = join(tempDir(), "cert.pem");
    execFileSync("mkfifo", [fifo]);
    const error = await refusal(fifo);
    expect(error.message).toMatch(/is a FIFO, not a regular file/);
  });

  test("a directory is refused", async () => {
    const error = await refusal(tempDir());
    expect(error.message).toMatch(/is a directory, not a regular file/);
  });

  test("a file over the bound is refused with its bound named", async () => {
    const big = join(tempDir(), "big.pem");
    writeFileSync(big, "");
    truncateSync(big, MAX_MATERIAL_FILE_BYTES + 1);
    const error = await refusal(big);
    expect(error.message).toContain(`larger than ${MAX_MATERIAL_FILE_BYTES} bytes`);
  });

  test("a missing file says so", async () => {
    const error = await refusal(join(tempDir(), "missing.pem"));
    expect(error.code).toBe("file-not-found");
  });

  test("a regular file at the bound is read whole, and real material still loads", async () => {
    const dir = tempDir();
    const exact = join(dir, "exact.bin");
    writeFileSync(exact, Buffer.alloc(4096, 7));
    expect((await readBoundedFile(exact, { what: "certificate", maxBytes: 4096 })).length).toBe(4096);
    const pki = await createTestPki();
    const leaf = await pki.issueLeaf();
    writeFileSync(join(dir, "cert.pem"), leaf.certificatePem);
    writeFileSync(join(dir, "key.pem"), leaf.privateKeyPem, { mode: 0o600 });
    const material = await readCredentialMaterial({
      certificate: join(dir, "cert.pem"),
      privateKey: join(dir, "key.pem"),
    });
    expect(material.certificate).toBeDefined();
  });
});
