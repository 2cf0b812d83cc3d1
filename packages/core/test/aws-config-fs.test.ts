import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { applyProfileKeys, applyProfileRemoval, readProfiles } from "../src/aws-config/apply.ts";
import { readTextFileIfExists, withFileLock, writeFileAtomic } from "../src/aws-config/fs.ts";
import { resolveAwsFilePaths } from "../src/aws-config/paths.ts";
import { IamRaError } from "../src/errors.ts";
import { FixedClock } from "../src/testing/index.ts";

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-aws-config-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const mode = (path: string) => statSync(path).mode & 0o777;

/** botocore's own reading of a shared file: the oracle for what the SDKs will see. */
function botocoreProfiles(
  path: string,
  kind: "config" | "credentials",
): Record<string, Record<string, string>> {
  const script =
    kind === "config"
      ? "import json,sys; from botocore.configloader import load_config; print(json.dumps(load_config(sys.argv[1])['profiles']))"
      : "import json,sys; from botocore.configloader import raw_config_parse; print(json.dumps(raw_config_parse(sys.argv[1])))";
  return JSON.parse(execFileSync("python3", ["-c", script, path]).toString());
}

describe("resolveAwsFilePaths", () => {
  it("uses the variables when set, ~ expanded, relative paths against cwd", () => {
    expect(resolveAwsFilePaths({ env: {}, homedir: "/home/me", cwd: "/w" })).toEqual({
      config: "/home/me/.aws/config",
      credentials: "/home/me/.aws/credentials",
    });
    expect(
      resolveAwsFilePaths({
        env: { AWS_CONFIG_FILE: "~/cfg", AWS_SHARED_CREDENTIALS_FILE: "rel/creds" },
        homedir: "/home/me",
        cwd: "/w",
      }),
    ).toEqual({ config: "/home/me/cfg", credentials: "/w/rel/creds" });
    expect(resolveAwsFilePaths({ env: { AWS_CONFIG_FILE: "" }, homedir: "/h", cwd: "/" }).config).toBe(
      "/h/.aws/config",
    );
  });
});

describe("writeFileAtomic", () => {
  it("creates missing directories 0700 and the file 0600", async () => {
    const dir = tempDir();
    const path = join(dir, "a", "b", "credentials");
    await writeFileAtomic(path, "x");
    expect(readFileSync(path, "utf8")).toBe("x");
    expect(mode(path)).toBe(0o600);
    expect(mode(join(dir, "a", "b"))).toBe(0o700);
  });

  it("narrows a wider file to 0600 and leaves no temp file", async () => {
    const dir = tempDir();
    const path = join(dir, "credentials");
    writeFileSync(path, "old");
    chmodSync(path, 0o644);
    await writeFileAtomic(path, "new");
    expect(mode(path)).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["credentials"]);
  });

  it.runIf(process.getuid?.() === 0)("run by root, keeps the owner of the file it replaces", async () => {
    const dir = tempDir();
    const path = join(dir, "credentials");
    writeFileSync(path, "old");
    chownSync(path, 4321, 4321);
    await writeFileAtomic(path, "new");
    expect(statSync(path)).toMatchObject({ uid: 4321, gid: 4321 });
  });

  it("replaces the symlink's target and keeps the symlink", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "real"));
    writeFileSync(join(dir, "real", "credentials"), "old");
    symlinkSync("real/credentials", join(dir, "link"));
    const written = await writeFileAtomic(join(dir, "link"), "new");
    expect(written).toBe(join(dir, "real", "credentials"));
    expect(lstatSync(join(dir, "link")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "link"))).toBe("real/credentials");
    expect(readFileSync(join(dir, "real", "credentials"), "utf8")).toBe("new");
  });

  it("follows a dangling symlink to create its target", async () => {
    const dir = tempDir();
    symlinkSync(join(dir, "target"), join(dir, "link"));
    await writeFileAtomic(join(dir, "link"), "new");
    expect(readFileSync(join(dir, "target"), "utf8")).toBe("new");
  });

  // Changing a link's owner needs root (CI and this project's machines run the suite as root).
  it.skipIf(process.getuid?.() !== 0)(
    "refuses a symlink another user owns: root editing a user's file is not sent elsewhere",
    async () => {
      const dir = tempDir();
      writeFileSync(join(dir, "victim"), "root's file\n", { mode: 0o644 });
      symlinkSync(join(dir, "victim"), join(dir, "config"));
      lchownSync(join(dir, "config"), 65534, 65534);
      await expect(writeFileAtomic(join(dir, "config"), "[profile x]\n")).rejects.toMatchObject({
        code: "file-permission",
        message: expect.stringMatching(/config is a symlink owned by another user \(uid 65534\)/),
      });
      await expect(withFileLock(join(dir, "config"), async () => 1)).rejects.toMatchObject({
        code: "file-permission",
      });
      expect(readFileSync(join(dir, "victim"), "utf8")).toBe("root's file\n");
      expect(mode(join(dir, "victim"))).toBe(0o644);
      // A link root owns is still followed.
      lchownSync(join(dir, "config"), 0, 0);
      await writeFileAtomic(join(dir, "config"), "[profile x]\n");
      expect(readFileSync(join(dir, "victim"), "utf8")).toBe("[profile x]\n");
    },
  );

  it("a directory in the way is a clear error", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "credentials"));
    await expect(writeFileAtomic(join(dir, "credentials"), "x")).rejects.toMatchObject({
      code: "invalid-input",
      message: expect.stringMatching(/not a file/),
    });
    expect(readdirSync(dir)).toEqual(["credentials"]);
  });
});

describe("readTextFileIfExists", () => {
  it("a missing file is empty; non-UTF-8 is refused rather than mangled", async () => {
    const dir = tempDir();
    expect(await readTextFileIfExists(join(dir, "nope"))).toEqual({ text: "", exists: false });
    writeFileSync(join(dir, "latin1"), Buffer.from([0x5b, 0x61, 0x5d, 0x0a, 0x78, 0x3d, 0xe9, 0x0a]));
    await expect(readTextFileIfExists(join(dir, "latin1"))).rejects.toMatchObject({ code: "invalid-input" });
  });
});

describe("readTextFileIfExists and the lock: a planted FIFO, symlink or huge file is refused, not waited on", () => {
  it("the config file", async () => {
    const dir = tempDir();
    execFileSync("mkfifo", [join(dir, "config")]);
    await expect(readTextFileIfExists(join(dir, "config"))).rejects.toMatchObject({
      name: "IamRaError",
      code: "invalid-input",
      message: expect.stringMatching(/config is a FIFO, not a regular file/),
    });
    writeFileSync(join(dir, "big"), "");
    truncateSync(join(dir, "big"), 9 * 1024 * 1024);
    await expect(readTextFileIfExists(join(dir, "big"))).rejects.toMatchObject({
      message: expect.stringMatching(/big is larger than 8388608 bytes/),
    });
  });

  it("the lock file next to it", async () => {
    const dir = tempDir();
    execFileSync("mkfifo", [join(dir, "config.lock")]);
    await expect(withFileLock(join(dir, "config"), async () => 1)).rejects.toMatchObject({
      code: "invalid-input",
      message: expect.stringMatching(/config\.lock is not a lock file iam-ra wrote/),
    });
    rmSync(join(dir, "config.lock"));
    symlinkSync(join(dir, "elsewhere"), join(dir, "config.lock"));
    writeFileSync(join(dir, "elsewhere"), "{}");
    await expect(withFileLock(join(dir, "config"), async () => 1)).rejects.toMatchObject({
      message: expect.stringMatching(/config\.lock is a symlink/),
    });
  });
});

describe("withFileLock", () => {
  it("serialises concurrent read-modify-write cycles: none is lost", async () => {
    const dir = tempDir();
    const path = join(dir, "counter");
    writeFileSync(path, "0");
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withFileLock(path, async () => {
          const n = Number(readFileSync(path, "utf8"));
          await new Promise((r) => setTimeout(r, 2));
          await writeFileAtomic(path, String(n + 1));
        }),
      ),
    );
    expect(readFileSync(path, "utf8")).toBe("20");
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("releases the lock when fn throws", async () => {
    const dir = tempDir();
    const path = join(dir, "f");
    await expect(withFileLock(path, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("breaks a lock whose process is gone on this host", async () => {
    const dir = tempDir();
    const path = join(dir, "f");
    const clock = new FixedClock();
    writeFileSync(
      `${path}.lock`,
      JSON.stringify({ pid: 999_999, hostname: "h", token: "t", createdAt: clock.now().getTime() }),
    );
    const ran = await withFileLock(path, async () => "ran", {
      clock,
      owner: { pid: 1, hostname: "h" },
      isProcessAlive: (pid) => pid !== 999_999,
    });
    expect(ran).toBe("ran");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("breaks a lock older than staleMs, and a live one on another host only by age", async () => {
    const dir = tempDir();
    const path = join(dir, "f");
    const clock = new FixedClock();
    const lock = (createdAt: number) =>
      writeFileSync(`${path}.lock`, JSON.stringify({ pid: 5, hostname: "other", token: "t", createdAt }));
    lock(clock.now().getTime() - 60_000);
    expect(
      await withFileLock(path, async () => 1, { clock, staleMs: 10_000, owner: { pid: 1, hostname: "h" } }),
    ).toBe(1);
    lock(clock.now().getTime());
    const sleep = async (ms: number) => clock.advance(ms);
    await expect(
      withFileLock(path, async () => 2, {
        clock,
        sleep,
        staleMs: 10_000,
        timeoutMs: 5_000,
        owner: { pid: 1, hostname: "h" },
        isProcessAlive: () => false,
      }),
    ).rejects.toSatisfy(
      (e) =>
        e instanceof IamRaError &&
        e.code === "timeout" &&
        /held by process 5 on other/.test(e.message) &&
        e.hint?.includes(`delete ${path}.lock`) === true,
    );
    expect(existsSync(`${path}.lock`)).toBe(true);
  });

  it("an unreadable (half-written) lock is judged by its age", async () => {
    const dir = tempDir();
    const path = join(dir, "f");
    writeFileSync(`${path}.lock`, "");
    const old = new Date(Date.now() - 120_000);
    utimesSync(`${path}.lock`, old, old);
    expect(await withFileLock(path, async () => "ok")).toBe("ok");
  });

  it("does not remove a lock that is no longer its own", async () => {
    const dir = tempDir();
    const path = join(dir, "f");
    await withFileLock(path, async () => {
      writeFileSync(
        `${path}.lock`,
        JSON.stringify({ pid: 7, hostname: "x", token: "someone-else", createdAt: 0 }),
      );
    });
    expect(JSON.parse(readFileSync(`${path}.lock`, "utf8")).token).toBe("someone-else");
  });

  it("locks the symlink's target, so two paths to one file share a lock", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "real"), "");
    symlinkSync("real", join(dir, "link"));
    await withFileLock(join(dir, "link"), async () => {
      expect(existsSync(join(dir, "real.lock"))).toBe(true);
    });
  });
});

describe("applyProfileKeys / applyProfileRemoval / readProfiles", () => {
  const gnarly = [
    "# my credentials, edited by hand",
    "[default]",
    "aws_access_key_id=AKIADEFAULT",
    "aws_secret_access_key = secret-default",
    "",
    "; the CI profile",
    "[ci]",
    "region = eu-west-1",
    "aws_access_key_id = OLD",
    "",
    "[other]",
    "aws_access_key_id = AKIAOTHER",
    "aws_secret_access_key = secret-other",
  ].join("\r\n");

  it("edits one profile in a hand-written CRLF file; botocore reads the result", async () => {
    const dir = tempDir();
    const path = join(dir, "credentials");
    writeFileSync(path, gnarly, { mode: 0o644 });
    const keys = {
      aws_access_key_id: "ASIANEW",
      aws_secret_access_key: "s/e+c=r",
      aws_session_token: "tok==",
    };
    const r = await applyProfileKeys({ path, kind: "credentials", profile: "ci", keys });
    expect(r).toMatchObject({ written: true, created: false, path });
    const after = readFileSync(path, "utf8");
    expect(after).toBe(
      gnarly.replace(
        "aws_access_key_id = OLD",
        "aws_access_key_id = ASIANEW\r\naws_secret_access_key = s/e+c=r\r\naws_session_token = tok==",
      ),
    );
    expect(mode(path)).toBe(0o600);
    const profiles = botocoreProfiles(path, "credentials");
    expect(profiles.ci).toEqual({ region: "eu-west-1", ...keys });
    expect(profiles.default).toEqual({
      aws_access_key_id: "AKIADEFAULT",
      aws_secret_access_key: "secret-default",
    });
    expect(profiles.other).toEqual({ aws_access_key_id: "AKIAOTHER", aws_secret_access_key: "secret-other" });
    // The same keys again: nothing to write.
    expect((await applyProfileKeys({ path, kind: "credentials", profile: "ci", keys })).written).toBe(false);
  });

  it("creates ~/.aws/config from nothing; botocore reads the profiles", async () => {
    const dir = tempDir();
    const path = join(dir, ".aws", "config");
    await applyProfileKeys({ path, kind: "config", profile: "dev", keys: { region: "us-east-1" } });
    await applyProfileKeys({ path, kind: "config", profile: "default", keys: { output: "json" } });
    expect(readFileSync(path, "utf8")).toBe(
      "[profile dev]\nregion = us-east-1\n\n[default]\noutput = json\n",
    );
    expect(botocoreProfiles(path, "config")).toEqual({
      dev: { region: "us-east-1" },
      default: { output: "json" },
    });
    expect((await readProfiles({ path, kind: "config" })).map((p) => p.name)).toEqual(["dev", "default"]);
    expect(await applyProfileRemoval({ path, kind: "config", profile: "dev" })).toMatchObject({
      removed: 1,
      written: true,
    });
    expect(readFileSync(path, "utf8")).toBe("[default]\noutput = json\n");
    expect(await applyProfileRemoval({ path, kind: "config", profile: "dev" })).toMatchObject({
      removed: 0,
      written: false,
    });
  });

  it("onlyIf is checked under the lock; a refused removal writes nothing", async () => {
    const dir = tempDir();
    const path = join(dir, "config");
    writeFileSync(path, "[profile mine]\nx_owner = me\n[profile theirs]\nregion = r\n", { mode: 0o644 });
    const onlyIf = (p: { keys: Record<string, string> }) => p.keys.x_owner === "me";
    expect(await applyProfileRemoval({ path, kind: "config", profile: "theirs", onlyIf })).toMatchObject({
      refused: true,
      removed: 0,
      written: false,
    });
    expect(mode(path)).toBe(0o644);
    expect(await applyProfileRemoval({ path, kind: "config", profile: "mine", onlyIf })).toMatchObject({
      refused: false,
      removed: 1,
    });
    expect(readFileSync(path, "utf8")).toBe("[profile theirs]\nregion = r\n");
  });

  it("twenty concurrent writers of different profiles: all present, file intact", async () => {
    const dir = tempDir();
    const path = join(dir, "credentials");
    writeFileSync(path, gnarly);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        applyProfileKeys({
          path,
          kind: "credentials",
          profile: `p${i}`,
          keys: { aws_access_key_id: `K${i}` },
        }),
      ),
    );
    const profiles = botocoreProfiles(path, "credentials");
    for (let i = 0; i < 20; i++) expect(profiles[`p${i}`]).toEqual({ aws_access_key_id: `K${i}` });
    expect(readFileSync(path, "utf8").startsWith(gnarly)).toBe(true);
    expect(readdirSync(dir)).toEqual(["credentials"]);
  });
});
