import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { CredentialMaterialError } from "./errors.ts";

/**
 * The largest certificate, key, chain or PKCS#12 file read: real ones are a few KB, and a path
 * such as `/dev/zero` must not make us read gigabytes.
 * @public
 */
export const MAX_MATERIAL_FILE_BYTES = 1024 * 1024;

/**
 * Options of {@link readBoundedFile}.
 * @public
 */
export interface ReadBoundedFileOptions {
  /** What the file is, for messages: `certificate`, `private-key`, … */
  what: string;
  /** The largest size accepted. Default {@link MAX_MATERIAL_FILE_BYTES}. */
  maxBytes?: number | undefined;
}

/**
 * Reads a regular file of bounded size. A FIFO, device, socket or directory is refused (opened
 * non-blocking, so a FIFO without a writer cannot hang us), and so is a file larger than the
 * bound, each with a message naming the path and what to do.
 * @public
 */
export async function readBoundedFile(path: string, options: ReadBoundedFileOptions): Promise<Uint8Array> {
  const { what } = options;
  const maxBytes = options.maxBytes ?? MAX_MATERIAL_FILE_BYTES;
  const hint = `Pass the path of a regular ${what} file this user may read.`;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new CredentialMaterialError(
      code === "ENOENT"
        ? "file-not-found"
        : code === "EACCES" || code === "EPERM"
          ? "file-permission"
          : "invalid-input",
      code === "ENOENT"
        ? `The ${what} file ${path} does not exist.`
        : `The ${what} file ${path} cannot be read (${code}).`,
      { source: what, cause, hint: `Check the ${what} path and that this user may read it.` },
    );
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      const kind = stat.isDirectory()
        ? "a directory"
        : stat.isFIFO()
          ? "a FIFO"
          : stat.isCharacterDevice() || stat.isBlockDevice()
            ? "a device"
            : stat.isSocket()
              ? "a socket"
              : "not a regular file";
      throw new CredentialMaterialError(
        "invalid-input",
        `The ${what} path ${path} is ${kind}, not a regular file.`,
        {
          source: what,
          hint,
        },
      );
    }
    const tooLarge = () =>
      new CredentialMaterialError(
        "invalid-input",
        `The ${what} file ${path} is larger than ${maxBytes} bytes; a ${what} is a few KB.`,
        { source: what, hint },
      );
    if (stat.size > maxBytes) throw tooLarge();
    // The size can change between stat and read: read at most one byte past the bound.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw tooLarge();
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
  } finally {
    await handle.close();
  }
}

/**
 * Reads a passphrase or PIN file: a regular file of at most 4 KiB ({@link readBoundedFile}), as
 * UTF-8 without one final newline (editors add it; no secret ends in one).
 * @internal
 */
export async function readSecretFile(path: string, what: string): Promise<string> {
  const bytes = await readBoundedFile(path, { what, maxBytes: 4096 });
  return Buffer.from(bytes)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}
