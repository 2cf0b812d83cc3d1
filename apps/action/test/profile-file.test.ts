import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  parseCredentialsFile,
  profileFilePath,
  readProfile,
  removeProfile,
  writeProfile,
} from "../src/profile-file.ts";

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-action-profile-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const creds = (n: number) => ({
  accessKeyId: `ASIA${n}`,
  secretAccessKey: `secret/${n}+x`,
  sessionToken: `token=${n}`,
});

describe("the job's credentials file", () => {
  it("writes profiles 0600 in a 0700 directory, reads them back, and deletes the file with the last one", async () => {
    const file = profileFilePath(tempDir());
    await writeProfile(file, "a", creds(1));
    await writeProfile(file, "b", creds(2));
    await writeProfile(file, "a", creds(3));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, "..")).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, "utf8")).toBe(
      "# Written by iam-ra-action; its post step removes each profile it wrote.\n" +
        "[a]\naws_access_key_id = ASIA3\naws_secret_access_key = secret/3+x\naws_session_token = token=3\n\n" +
        "[b]\naws_access_key_id = ASIA2\naws_secret_access_key = secret/2+x\naws_session_token = token=2\n",
    );
    expect(await readProfile(file, "b")).toEqual(creds(2));
    expect(await readProfile(file, "c")).toBeUndefined();
    expect(await removeProfile(file, "a")).toBe("removed");
    expect(await removeProfile(file, "a")).toBe("absent");
    expect([...parseCredentialsFile(readFileSync(file, "utf8")).keys()]).toEqual(["b"]);
    expect(await removeProfile(file, "b")).toBe("deleted");
    expect(() => statSync(file)).toThrow(/ENOENT/);
    expect(await removeProfile(file, "b")).toBe("absent");
  });

  it("refuses to read through a symlink, and to use a directory that is a symlink", async () => {
    const temp = tempDir();
    const file = profileFilePath(temp);
    mkdirSync(join(file, ".."));
    const elsewhere = join(temp, "elsewhere");
    writeFileSync(elsewhere, "[x]\naws_access_key_id = A\n");
    symlinkSync(elsewhere, file);
    await expect(writeProfile(file, "a", creds(1))).rejects.toThrow(/cannot be read \(ELOOP\)/);
    expect(readFileSync(elsewhere, "utf8")).toBe("[x]\naws_access_key_id = A\n");

    const temp2 = tempDir();
    mkdirSync(join(temp2, "real"));
    symlinkSync(join(temp2, "real"), join(temp2, "iam-ra-action"));
    await expect(writeProfile(profileFilePath(temp2), "a", creds(1))).rejects.toThrow(/is not a directory/);
  });
});
