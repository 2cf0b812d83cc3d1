import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs openssl in a directory; throws with stderr on failure. */
export function openssl(cwd: string, args: string[], input?: string | Buffer): Buffer {
  return execFileSync("openssl", args, { cwd, input, stdio: ["pipe", "pipe", "pipe"] });
}

/** A temporary directory removed by the returned cleanup. */
export function makeTempDir(prefix = "iam-ra-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const read = (dir: string, name: string) => readFileSync(join(dir, name));
export const write = (dir: string, name: string, data: string | Buffer) =>
  writeFileSync(join(dir, name), data);

/**
 * Builds a small PKI with openssl only (an implementation we did not write): a root CA, an
 * intermediate, and leaf certificates for several key types, in `dir`.
 */
export function buildOpensslPki(dir: string): void {
  const ext = [
    "[ca]",
    "basicConstraints=critical,CA:TRUE",
    "keyUsage=critical,keyCertSign,cRLSign",
    "subjectKeyIdentifier=hash",
    "[leaf]",
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=clientAuth",
    "subjectKeyIdentifier=hash",
    "authorityKeyIdentifier=keyid",
    "subjectAltName=DNS:host.example.com",
  ].join("\n");
  write(dir, "ext.cnf", ext);
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "root.key",
    "-out",
    "root.pem",
    "-days",
    "3650",
    "-subj",
    "/CN=Test Root CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  openssl(dir, [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "inter.key",
    "-out",
    "inter.csr",
    "-subj",
    "/CN=Test Intermediate CA",
  ]);
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    "inter.csr",
    "-CA",
    "root.pem",
    "-CAkey",
    "root.key",
    "-CAcreateserial",
    "-out",
    "inter.pem",
    "-days",
    "3650",
    "-extfile",
    "ext.cnf",
    "-extensions",
    "ca",
  ]);
  const leaf = (name: string, keyArgs: string[], subject: string) => {
    openssl(dir, ["genpkey", ...keyArgs, "-out", `${name}.key`]);
    openssl(dir, ["req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "inter.pem",
      "-CAkey",
      "inter.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "365",
      "-extfile",
      "ext.cnf",
      "-extensions",
      "leaf",
    ]);
  };
  leaf(
    "rsa2048",
    ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "/CN=rsa2048/OU=readers/O=Example",
  );
  leaf(
    "ecp256",
    ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "/CN=ecp256/OU=readers/O=Example",
  );
  leaf(
    "ecp384",
    ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "/CN=ecp384/OU=readers/O=Example",
  );
  leaf(
    "ecp521",
    ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
    "/CN=ecp521/OU=readers/O=Example",
  );
}
