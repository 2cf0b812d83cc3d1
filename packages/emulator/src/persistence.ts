/**
 * `--persist FILE`: the state as a snapshot (FILE, 2-space JSON) plus an append-only journal
 * (FILE.journal, one JSON record a line) of what CreateSession and AssumeRole add. Writes are
 * group-committed: the records of every request that arrives while a write is on its way go out
 * together in the next one, and each request is answered only once its records are fsynced. Other
 * changes (the control plane, putRole, reset) and a journal grown as long as the state rewrite the
 * snapshot (temp file, fsync, rename) and start an empty journal. A torn last line, left by a crash
 * in the middle of a write nobody was told succeeded, is dropped on load. Both files are 0600 and
 * are neither read nor written through a symbolic link.
 * @module
 */
import { randomBytes } from "node:crypto";
import { constants, type FileHandle, mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import {
  applyChange,
  type EmulatorStateData,
  emptyState,
  formatSnapshot,
  parseSnapshot,
  pruneSessions,
  type StateChange,
} from "./state.ts";

/** The journal's first line. */
export const JOURNAL_HEADER = `${JSON.stringify({ format: "iam-ra-emulator-journal", version: 1 })}\n`;

/** The journal next to a snapshot file. */
export const journalPath = (path: string): string => `${path}.journal`;

/** The fewest journal records before a compaction; beyond it, compaction waits for the state's size. */
const MIN_COMPACT_RECORDS = 1000;

/** What {@link parseJournal} found. */
export interface ParsedJournal {
  /** The records after the snapshot's `journalSeq`, in order. */
  changes: StateChange[];
  /** The last sequence number on disk (the snapshot's when the journal adds none). */
  lastSeq: number;
  /** Records in the file, the ones the snapshot holds included. */
  records: number;
  /** Lines dropped from the first unreadable one on (a torn last write). */
  dropped: number;
  /** True when new records can be appended as the file stands (a header and no torn tail). */
  appendable: boolean;
}

function isChange(value: unknown): value is StateChange & { seq: number } {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.seq)) return false;
  const record = (v.session ?? v.subject) as Record<string, unknown> | undefined;
  if (!record || typeof record !== "object") return false;
  return v.session !== undefined
    ? typeof record.accessKeyId === "string" && typeof record.expiration === "string"
    : typeof record.subjectId === "string";
}

/** Reads a journal's text: the records after `afterSeq`, up to the first line that is not one. */
export function parseJournal(text: string, afterSeq: number): ParsedJournal {
  const none = { changes: [], lastSeq: afterSeq, records: 0, dropped: 0 };
  if (text === "") return { ...none, appendable: false };
  const lines = text.split("\n");
  // A complete file ends with a newline: the last element is then empty.
  const tail = lines.pop() ?? "";
  if (`${lines[0]}\n` !== JOURNAL_HEADER) {
    if (lines.length === 0) return { ...none, dropped: 1, appendable: false };
    throw new Error("not an iam-ra emulator journal (unknown first line)");
  }
  const changes: StateChange[] = [];
  let lastSeq = afterSeq;
  let records = 0;
  for (let i = 1; i < lines.length; i++) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(lines[i]!);
    } catch {
      parsed = undefined;
    }
    if (!isChange(parsed)) {
      return { changes, lastSeq, records, dropped: lines.length - i + (tail ? 1 : 0), appendable: false };
    }
    records++;
    const { seq, ...change } = parsed;
    if (seq <= afterSeq) continue;
    changes.push(change as StateChange);
    lastSeq = Math.max(lastSeq, seq);
  }
  return { changes, lastSeq, records, dropped: tail ? 1 : 0, appendable: tail === "" };
}

function refuseLink(path: string, error: unknown): never {
  if ((error as NodeJS.ErrnoException).code === "ELOOP")
    throw new Error(`${path} is a symbolic link; the emulator does not follow one to its state`);
  throw error;
}

/** A file's text, or undefined when it does not exist; never through a symbolic link. */
async function readNoFollow(path: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    refuseLink(path, error);
  }
  try {
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/** Replaces a file with this text, durably: a fresh 0600 temp file, fsync, rename, fsync of the folder. */
async function replaceFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(tmp, flags, 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
  // The rename is durable once the folder is synced; platforms that cannot open or sync a folder
  // (Windows) give no such guarantee to have.
  const folder = await open(dirname(path), constants.O_RDONLY).catch(() => undefined);
  try {
    await folder?.sync().catch((error: NodeJS.ErrnoException) => {
      if (!["EINVAL", "EISDIR", "EPERM", "ENOTSUP"].includes(error.code ?? "")) throw error;
    });
  } finally {
    await folder?.close();
  }
}

/** A persisted state as loaded: what {@link createStateWriter} continues from. */
export interface PersistedState {
  state: EmulatorStateData;
  lastSeq: number;
  journalRecords: number;
  journalAppendable: boolean;
  /** Journal lines dropped as a torn write (0 normally). */
  dropped: number;
}

/**
 * Loads the snapshot and replays the journal over it; missing files are an empty state. Sessions
 * expired for over an hour are dropped.
 */
export async function loadPersistedState(path: string, now: Date): Promise<PersistedState> {
  const snapshotText = await readNoFollow(path);
  const { state, journalSeq } =
    snapshotText === undefined ? { state: emptyState(), journalSeq: 0 } : parseSnapshot(snapshotText, path);
  const journalText = await readNoFollow(journalPath(path));
  let journal: ParsedJournal;
  try {
    journal = parseJournal(journalText ?? "", journalSeq);
  } catch (error) {
    throw new Error(`${journalPath(path)}: ${(error as Error).message}`);
  }
  for (const change of journal.changes) applyChange(state, change);
  pruneSessions(state, now);
  return {
    state,
    lastSeq: journal.lastSeq,
    journalRecords: journal.records,
    journalAppendable: journal.appendable,
    dropped: journal.dropped,
  };
}

/** Options of {@link createStateWriter}. */
export interface StateWriterOptions {
  path: string;
  /** The live state (the emulator replaces it on reset). */
  current: () => EmulatorStateData;
  loaded: Pick<PersistedState, "lastSeq" | "journalRecords" | "journalAppendable">;
  /** Compact after at least this many journal records. Default 1000 (or the session count, if more). */
  compactEvery?: number | undefined;
}

/** Writes the state as it changes; see the module's description. */
export interface StateWriter {
  /** Journals these records; resolves once they are on disk. */
  commit(changes: readonly StateChange[]): Promise<void>;
  /** Rewrites the whole state; resolves once it is on disk. */
  snapshot(): Promise<void>;
  /** Waits for pending writes, compacts, and closes the journal. */
  close(): Promise<void>;
}

interface Batch {
  records: Array<{ seq: number; change: StateChange }>;
  snapshot: boolean;
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

export function createStateWriter(options: StateWriterOptions): StateWriter {
  const { path } = options;
  const minRecords = options.compactEvery ?? MIN_COMPACT_RECORDS;
  let seq = options.loaded.lastSeq;
  let journalRecords = options.loaded.journalRecords;
  let appendable = options.loaded.journalAppendable;
  let journal: FileHandle | undefined;
  let pending: Batch = { records: [], snapshot: false, waiters: [] };
  let running: Promise<void> | undefined;

  const compact = async () => {
    // Serialized now, so it holds every change made so far, and the records up to `seq` with them.
    const text = formatSnapshot(options.current(), seq);
    await journal?.close();
    journal = undefined;
    appendable = false;
    await replaceFile(path, text);
    await replaceFile(journalPath(path), JOURNAL_HEADER);
    journalRecords = 0;
    appendable = true;
  };

  const append = async (records: Batch["records"]) => {
    journal ??= await open(
      journalPath(path),
      constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW,
    ).catch((error: unknown) => refuseLink(journalPath(path), error));
    // Serialized at write time: a subject changed twice in one batch is written as it is now.
    const text = records.map((r) => `${JSON.stringify({ seq: r.seq, ...r.change })}\n`).join("");
    await journal.write(text);
    await journal.datasync();
    journalRecords += records.length;
  };

  const run = async () => {
    while (pending.waiters.length > 0) {
      const batch = pending;
      pending = { records: [], snapshot: false, waiters: [] };
      const limit = Math.max(minRecords, options.current().sessions.length);
      try {
        if (batch.snapshot || !appendable || journalRecords + batch.records.length > limit) await compact();
        else await append(batch.records);
        for (const w of batch.waiters) w.resolve();
      } catch (error) {
        // A write that failed half-way may have left a partial line: start the next one afresh.
        appendable = false;
        for (const w of batch.waiters) w.reject(error);
      }
    }
    running = undefined;
  };

  const enqueue = (fill: (batch: Batch) => void) =>
    new Promise<void>((resolve, reject) => {
      fill(pending);
      pending.waiters.push({ resolve, reject });
      running ??= run();
    });

  return {
    commit: (changes) =>
      enqueue((batch) => {
        for (const change of changes) batch.records.push({ seq: ++seq, change });
      }),
    snapshot: () =>
      enqueue((batch) => {
        batch.snapshot = true;
      }),
    close: async () => {
      while (running) await running;
      // Folded into the snapshot, so a stopped emulator leaves one plain JSON file to read. The
      // journal already holds every record durably: a failure here loses nothing.
      if (journalRecords > 0) await compact().catch(() => {});
      await journal?.close();
      journal = undefined;
    },
  };
}
