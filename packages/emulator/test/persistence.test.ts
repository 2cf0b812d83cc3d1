import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { createSession } from "@iam-ra/core/rolesanywhere";
import { createTestPki } from "@iam-ra/core/testing";
import { parseCredentialMaterial } from "@iam-ra/core/x509";
import { describe, expect, it, onTestFinished } from "vitest";
import { type Emulator, startEmulator } from "../src/index.ts";
import {
  createStateWriter,
  JOURNAL_HEADER,
  journalPath,
  loadPersistedState,
  parseJournal,
} from "../src/persistence.ts";
import { emptyState, type SessionRecord } from "../src/state.ts";
import { boundTrustPolicy, controlPlane, createWorld, ROLE_ARN } from "./harness.ts";

function tempFile(name = "state.json"): string {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-emu-persist-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

const whoAmI = (
  endpoint: string,
  c: { accessKeyId: string; secretAccessKey: string; sessionToken: string },
) =>
  new STSClient({ region: "us-east-1", endpoint, credentials: c, maxAttempts: 1 }).send(
    new GetCallerIdentityCommand({}),
  );

function session(accessKeyId: string, expiration: string): SessionRecord {
  return {
    accessKeyId,
    secretAccessKey: "secret",
    sessionToken: "token",
    expiration,
    roleArn: ROLE_ARN,
    roleSessionName: "s",
    assumedRoleId: "AROAEXAMPLE:s",
    accountId: "123456789012",
  };
}

describe("--persist: snapshot and journal", () => {
  it("what an acknowledged call changed is there after a crash (no close): the journal is replayed", async () => {
    const path = tempFile();
    const w = await createWorld({ persistPath: path });
    const leaf = await w.pki.issueLeaf();
    const { credentials } = await w.call(leaf);
    const { profile } = await controlPlane(w.emu, "POST", "/profiles", {
      name: "later",
      roleArns: [ROLE_ARN],
    });
    const { credentials: second } = await w.call(leaf);
    // The emulator is not closed: read the files as a restarted one would.
    const loaded = await loadPersistedState(path, w.clock.now());
    expect(loaded.dropped).toBe(0);
    expect(loaded.state.sessions.map((s) => s.accessKeyId)).toEqual([
      credentials.accessKeyId,
      second.accessKeyId,
    ]);
    expect(loaded.state.profiles.map((p) => p.profileArn)).toContain(profile.profileArn);
    expect(loaded.state.subjects).toEqual(w.emu.state.subjects);
    expect(loaded.state.roles).toEqual(w.emu.state.roles);
    for (const file of [path, journalPath(path)]) expect(statSync(file).mode & 0o777).toBe(0o600);

    const again = await startEmulator({ persistPath: path, clock: w.clock });
    onTestFinished(() => again.close());
    expect((await whoAmI(again.url, second)).Arn).toMatch(/assumed-role\/app-reader\//);
  });

  it("a torn last record (a crash mid-write) is dropped on load, and the next write starts a clean journal", async () => {
    const path = tempFile();
    const w = await createWorld({ persistPath: path });
    const leaf = await w.pki.issueLeaf();
    const first = await w.call(leaf);
    const second = await w.call(leaf);
    const size = statSync(journalPath(path)).size;
    const lastLine = readFileSync(journalPath(path), "utf8").trimEnd().split("\n").at(-1)!;
    truncateSync(journalPath(path), size - Math.floor(lastLine.length / 2));

    const loaded = await loadPersistedState(path, w.clock.now());
    expect(loaded.dropped).toBe(1);
    expect(loaded.journalAppendable).toBe(false);
    // The second call wrote a session and its subject: the session survives, the torn subject update
    // (not acknowledged in this simulation) does not.
    expect(loaded.state.sessions.map((s) => s.accessKeyId)).toEqual([
      first.credentials.accessKeyId,
      second.credentials.accessKeyId,
    ]);

    // The first emulator stays up (a closed one would fold the journal into the snapshot): the
    // second one plays the process that starts after the crash.
    const logs: string[] = [];
    const again = await startEmulator({ persistPath: path, clock: w.clock, logger: (e) => logs.push(e.msg) });
    onTestFinished(() => again.close());
    expect(logs.some((m) => /dropped 1 torn line/.test(m))).toBe(true);
    again.putRole("arn:aws:iam::123456789012:role/after", boundTrustPolicy("x"));
    await controlPlane(again, "POST", "/profiles", { name: "after-crash", roleArns: [ROLE_ARN] });
    const clean = await loadPersistedState(path, w.clock.now());
    expect(clean).toMatchObject({ dropped: 0, journalAppendable: true });
    expect(clean.state.profiles.map((p) => p.name)).toContain("after-crash");
    expect(clean.state.sessions).toHaveLength(2);
  });

  it("sessions expired for over an hour are pruned on load; fresher ones are kept for ExpiredToken", async () => {
    const path = tempFile();
    const w = await createWorld({ persistPath: path });
    const leaf = await w.pki.issueLeaf();
    const { credentials } = await w.call(leaf, { durationSeconds: 900 });
    await w.emu.close();
    const at = (ms: number) => new Date(w.clock.now().getTime() + ms);
    const soon = await loadPersistedState(path, at(900_000 + 30 * 60_000));
    expect(soon.state.sessions.map((s) => s.accessKeyId)).toEqual([credentials.accessKeyId]);
    const later = await loadPersistedState(path, at(900_000 + 3600_000 + 1000));
    expect(later.state.sessions).toEqual([]);
    expect(later.state.subjects).toHaveLength(1);
  });

  it("opens the single-JSON file of earlier versions (version 1) and writes version 2 from then on", async () => {
    const path = tempFile();
    const v1 = {
      version: 1,
      trustAnchors: [],
      profiles: [],
      crls: [],
      subjects: [],
      roles: [{ roleArn: ROLE_ARN, trustPolicy: boundTrustPolicy("old") }],
      sessions: [session("ASIAOLDFORMAT0000001", "2999-01-01T00:00:00Z")],
      tags: {},
    };
    writeFileSync(path, `${JSON.stringify(v1, null, 2)}\n`, { mode: 0o600 });
    const emu = await startEmulator({ persistPath: path });
    onTestFinished(() => emu.close());
    expect(emu.state.roles).toEqual(v1.roles);
    expect(emu.state.sessions).toEqual(v1.sessions);
    await controlPlane(emu, "POST", "/profiles", { name: "new", roleArns: [ROLE_ARN] });
    const written = JSON.parse(readFileSync(path, "utf8"));
    expect(written).toMatchObject({ version: 2, roles: v1.roles, sessions: v1.sessions });
    expect(written.profiles).toHaveLength(1);
    expect(readFileSync(journalPath(path), "utf8")).toBe(JOURNAL_HEADER);

    writeFileSync(path, JSON.stringify({ version: 3 }));
    await expect(startEmulator({ persistPath: path })).rejects.toThrow(
      /unsupported emulator state version 3/,
    );
  });

  it("does not follow a planted symbolic link, for the snapshot or the journal", async () => {
    const path = tempFile();
    const target = `${path}.elsewhere`;
    writeFileSync(target, JSON.stringify(emptyState()));
    symlinkSync(target, path);
    await expect(startEmulator({ persistPath: path })).rejects.toThrow(/symbolic link/);

    const other = tempFile();
    writeFileSync(`${other}.victim`, "");
    symlinkSync(`${other}.victim`, journalPath(other));
    await expect(startEmulator({ persistPath: other })).rejects.toThrow(/symbolic link/);
    expect(lstatSync(journalPath(other)).isSymbolicLink()).toBe(true);
    expect(readFileSync(`${other}.victim`, "utf8")).toBe("");
  });

  it("compacts: a journal as long as the state is folded into the snapshot; close leaves one JSON file", async () => {
    const path = tempFile();
    const state = emptyState();
    const writer = createStateWriter({
      path,
      current: () => state,
      loaded: { lastSeq: 0, journalRecords: 0, journalAppendable: false },
      compactEvery: 3,
    });
    // Concurrent commits share writes (group commit) and each resolves once durable.
    const all = Array.from({ length: 10 }, (_, i) => {
      const s = session(`ASIAGROUPCOMMIT${String(i).padStart(5, "0")}`, "2999-01-01T00:00:00Z");
      state.sessions.push(s);
      return writer.commit([{ session: s }]);
    });
    await Promise.all(all);
    const loaded = await loadPersistedState(path, new Date());
    expect(loaded.state.sessions).toEqual(state.sessions);
    expect(loaded.journalRecords).toBeLessThanOrEqual(10);
    await writer.close();
    expect(readFileSync(journalPath(path), "utf8")).toBe(JOURNAL_HEADER);
    const snapshot = JSON.parse(readFileSync(path, "utf8"));
    expect(snapshot.sessions).toEqual(state.sessions);
    expect(snapshot.journalSeq).toBe(10);
  });

  it("parseJournal: records the snapshot holds are skipped; a line that does not parse ends the journal", () => {
    const s1 = session("ASIAJOURNAL000000001", "2999-01-01T00:00:00Z");
    const s2 = session("ASIAJOURNAL000000002", "2999-01-01T00:00:00Z");
    const text = `${JOURNAL_HEADER}${JSON.stringify({ seq: 1, session: s1 })}\n${JSON.stringify({ seq: 2, session: s2 })}\n`;
    expect(parseJournal(text, 1)).toEqual({
      changes: [{ session: s2 }],
      lastSeq: 2,
      records: 2,
      dropped: 0,
      appendable: true,
    });
    expect(parseJournal(`${text}{"seq":3,"sess`, 0)).toMatchObject({
      records: 2,
      dropped: 1,
      appendable: false,
    });
    expect(parseJournal(`${text}\0\0\0\n`, 0)).toMatchObject({ records: 2, dropped: 1, appendable: false });
    expect(parseJournal(JOURNAL_HEADER.slice(0, 10), 0)).toMatchObject({ records: 0, appendable: false });
    expect(() => parseJournal("something else\n", 0)).toThrow(/not an iam-ra emulator journal/);
  });

  it("kill -9 right after an acknowledged CreateSession and CreateProfile: a restart from the file has both", async () => {
    const path = tempFile();
    const pki = await createTestPki();
    const start = async () => {
      const child = spawn(
        process.execPath,
        ["--conditions=@iam-ra/source", "--no-warnings", RUN_EMULATOR, "--persist", path],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      onTestFinished(() => {
        child.kill("SIGKILL");
      });
      const [line] = (await once(child.stdout, "data")) as [Buffer];
      return { child, emu: { url: line.toString().trim() } as Emulator };
    };
    const first = await start();
    const { trustAnchor } = await controlPlane(first.emu, "POST", "/trustanchors", {
      name: "a",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.root.certificatePem },
      },
    });
    const { profile } = await controlPlane(first.emu, "POST", "/profiles", {
      name: "p",
      enabled: true,
      roleArns: [ROLE_ARN],
    });
    const put = await fetch(`${first.emu.url}/_emulator/roles`, {
      method: "POST",
      body: JSON.stringify({ roleArn: ROLE_ARN, trustPolicy: boundTrustPolicy("killed") }),
    });
    expect(put.status).toBe(200);
    const leaf = await pki.issueLeaf({ subject: "CN=k,OU=killed", issuer: "root" });
    const material = await parseCredentialMaterial({
      certificate: leaf.certificatePem,
      privateKey: leaf.privateKeyPem,
    });
    const params = {
      trustAnchorArn: trustAnchor.trustAnchorArn,
      profileArn: profile.profileArn,
      roleArn: ROLE_ARN,
    };
    await createSession(material, params, { endpoint: first.emu.url, maxAttempts: 1 });
    const { credentials } = await createSession(material, params, {
      endpoint: first.emu.url,
      maxAttempts: 1,
    });
    first.child.kill("SIGKILL");
    await once(first.child, "exit");

    const second = await start();
    const listed = await controlPlane(second.emu, "GET", "/profiles");
    expect(listed.profiles.map((p: { name: string }) => p.name)).toEqual(["p"]);
    expect((await whoAmI(second.emu.url, credentials)).Arn).toMatch(/assumed-role\/app-reader\//);
    const subjects = await controlPlane(second.emu, "GET", "/subjects");
    expect(subjects.subjects).toHaveLength(1);
    second.child.kill("SIGTERM");
    expect((await once(second.child, "exit"))[0]).toBe(0);
    // A graceful stop folds the journal into one JSON file.
    expect(JSON.parse(readFileSync(path, "utf8")).sessions).toHaveLength(2);
    expect(readFileSync(journalPath(path), "utf8")).toBe(JOURNAL_HEADER);
  }, 60_000);
});

const RUN_EMULATOR = fileURLToPath(new URL("./fixtures/run-emulator.ts", import.meta.url));
