import { createHash, randomBytes } from "node:crypto";
import { type EmulatorStateData, pruneSessions, type SessionRecord } from "./state.ts";

/** Random upper-case base-32 characters after a prefix, like AWS access key ids. */
function randomId(prefix: string, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = prefix;
  for (const b of randomBytes(length)) out += alphabet[b % alphabet.length];
  return out;
}

/** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` of a session. */
export function assumedRoleArn(s: Pick<SessionRecord, "accountId" | "roleArn" | "roleSessionName">): string {
  return `arn:aws:sts::${s.accountId}:assumed-role/${s.roleArn.split("/").at(-1)}/${s.roleSessionName}`;
}

/** When each state last dropped its long-expired sessions. */
const lastPrune = new WeakMap<EmulatorStateData, number>();

/**
 * Issues temporary credentials for a role (CreateSession and STS AssumeRole alike), records them so
 * STS accepts them until expiry, and forgets sessions that expired over an hour ago so a
 * long-running emulator does not grow without bound.
 */
export function issueSession(
  state: EmulatorStateData,
  request: {
    roleArn: string;
    sessionName: string;
    durationSeconds: number;
    now: Date;
    sourceIdentity: string | undefined;
  },
): SessionRecord {
  const { roleArn, sessionName, now } = request;
  const roleId = `AROA${createHash("sha256").update(roleArn).digest("hex").slice(0, 17).toUpperCase()}`;
  const session: SessionRecord = {
    accessKeyId: randomId("ASIA", 16),
    secretAccessKey: randomBytes(30).toString("base64"),
    sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(180).toString("base64")}`,
    // AWS prints whole seconds.
    expiration: new Date(now.getTime() + request.durationSeconds * 1000)
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z"),
    roleArn,
    roleSessionName: sessionName,
    assumedRoleId: `${roleId}:${sessionName}`,
    accountId: roleArn.split(":")[4]!,
    sourceIdentity: request.sourceIdentity,
  };
  // Sessions expired for an hour are dropped, at most once a minute: a scan per request made a
  // long test run quadratic.
  const pruned = lastPrune.get(state) ?? 0;
  if (now.getTime() - pruned >= 60_000 || now.getTime() < pruned) {
    pruneSessions(state, now);
    lastPrune.set(state, now.getTime());
  }
  state.sessions.push(session);
  return session;
}
