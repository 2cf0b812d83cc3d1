import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { dirname, join } from "node:path";
import { IamRaError } from "@iam-ra/core";
import {
  listProfiles,
  removeProfile as removeProfileSections,
  setProfileKeys,
} from "@iam-ra/core/aws-config";

/** fs/promises on first use: only profile mode needs it, and loading it costs every start. */
const fsp = () => import("node:fs/promises");

/** The keys a credentials-file profile holds. */
export interface ProfileCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

const HEADER = "# Written by iam-ra-action; its post step removes each profile it wrote.\n";
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * The job's credentials file: one per job under `RUNNER_TEMP` (which the runner empties after the
 * job), shared by every step of this action so that several profiles can live side by side.
 */
export function profileFilePath(runnerTemp: string): string {
  return join(runnerTemp, "iam-ra-action", "credentials");
}

type Sections = Map<string, Map<string, string>>;

/** The profiles of a credentials file with their keys (lower-cased), as AWS SDKs read them. */
export function parseCredentialsFile(text: string): Sections {
  return new Map(listProfiles(text, "credentials").map((p) => [p.name, new Map(Object.entries(p.keys))]));
}

async function readIfExists(file: string): Promise<string | undefined> {
  const fs = await fsp();
  let handle: Awaited<ReturnType<typeof fs.open>>;
  try {
    handle = await fs.open(file, constants.O_RDONLY | NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new IamRaError("file-permission", `The credentials file ${file} cannot be read (${code}).`, {
      cause: error,
      hint: "The file must be a regular file (not a symlink) that the runner user may read.",
    });
  }
  try {
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/** Creates the file's directory 0700 and refuses one that is a symlink. */
async function ensureDirectory(dir: string): Promise<void> {
  const fs = await fsp();
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const stat = await fs.lstat(dir);
  if (!stat.isDirectory()) {
    throw new IamRaError("file-permission", `${dir} is not a directory.`, {
      hint: "Remove it; this action keeps its credentials file there.",
    });
  }
}

/** Replaces the file atomically: a fresh 0600 file (never following a link), then a rename. */
async function replaceFile(file: string, text: string): Promise<void> {
  const fs = await fsp();
  const temp = join(dirname(file), `.credentials-${randomBytes(6).toString("hex")}`);
  const handle = await fs.open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
    0o600,
  );
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
}

/**
 * Adds (or replaces) one profile in the credentials file, which is created 0600 if needed. Every
 * other line of the file stays as it is.
 */
export async function writeProfile(
  file: string,
  name: string,
  credentials: ProfileCredentials,
): Promise<void> {
  await ensureDirectory(dirname(file));
  const existing = await readIfExists(file);
  const { text } = setProfileKeys(existing ?? "", {
    kind: "credentials",
    profile: name,
    keys: {
      aws_access_key_id: credentials.accessKeyId,
      aws_secret_access_key: credentials.secretAccessKey,
      aws_session_token: credentials.sessionToken,
    },
  });
  await replaceFile(file, existing === undefined ? `${HEADER}${text}` : text);
}

/** Reads one profile's keys; undefined when the file or the profile (or one of its keys) is absent. */
export async function readProfile(file: string, name: string): Promise<ProfileCredentials | undefined> {
  const section = parseCredentialsFile((await readIfExists(file)) ?? "").get(name);
  const accessKeyId = section?.get("aws_access_key_id");
  const secretAccessKey = section?.get("aws_secret_access_key");
  const sessionToken = section?.get("aws_session_token");
  if (!accessKeyId || !secretAccessKey || !sessionToken) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken };
}

/**
 * Removes one profile; deletes the file once no profile is left.
 * @returns what happened, for the log.
 */
export async function removeProfile(file: string, name: string): Promise<"absent" | "removed" | "deleted"> {
  const text = await readIfExists(file);
  if (text === undefined) return "absent";
  const result = removeProfileSections(text, { kind: "credentials", profile: name });
  if (result.removed === 0) return "absent";
  if (listProfiles(result.text, "credentials").length === 0) {
    await (await fsp()).rm(file, { force: true });
    return "deleted";
  }
  await replaceFile(file, result.text);
  return "removed";
}
