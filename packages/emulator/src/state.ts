/** A `{ key, value }` tag, as the Roles Anywhere API spells it. */
export interface Tag {
  key: string;
  value: string;
}

export interface TrustAnchorRecord {
  trustAnchorId: string;
  trustAnchorArn: string;
  name: string;
  enabled: boolean;
  source: {
    sourceType: "CERTIFICATE_BUNDLE" | "AWS_ACM_PCA" | "SELF_SIGNED_REPOSITORY";
    sourceData: { x509CertificateData?: string; acmPcaArn?: string };
  };
  notificationSettings: Array<Record<string, unknown>>;
  createdAt: string;
  updatedAt: string;
}

export interface ProfileRecord {
  profileId: string;
  profileArn: string;
  name: string;
  enabled: boolean;
  roleArns: string[];
  managedPolicyArns: string[];
  sessionPolicy?: string | undefined;
  durationSeconds: number;
  requireInstanceProperties: boolean;
  acceptRoleSessionName: boolean;
  attributeMappings: Array<Record<string, unknown>>;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface CrlRecord {
  crlId: string;
  crlArn: string;
  name: string;
  enabled: boolean;
  /** Base64 DER. */
  crlData: string;
  trustAnchorArn: string;
  createdAt: string;
  updatedAt: string;
}

export interface SubjectCredentialRecord {
  enabled: boolean;
  failed: boolean;
  issuer: string;
  seenAt: string;
  serialNumber: string;
  x509CertificateData: string;
}

export interface SubjectRecord {
  subjectId: string;
  subjectArn: string;
  x509Subject: string;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  lastSeenAt: string;
  credentials: SubjectCredentialRecord[];
  instanceProperties: Array<{ failed: boolean; properties: Record<string, string>; seenAt: string }>;
}

/** A role the emulator knows, with its trust policy. */
export interface RoleRecord {
  roleArn: string;
  trustPolicy: unknown;
}

/** Credentials the emulator issued; STS accepts requests signed with them until expiry. */
export interface SessionRecord {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
  roleArn: string;
  roleSessionName: string;
  assumedRoleId: string;
  accountId: string;
  sourceIdentity?: string | undefined;
}

/** Everything the emulator holds. */
export interface EmulatorStateData {
  version: 2;
  trustAnchors: TrustAnchorRecord[];
  profiles: ProfileRecord[];
  crls: CrlRecord[];
  subjects: SubjectRecord[];
  roles: RoleRecord[];
  sessions: SessionRecord[];
  tags: Record<string, Tag[]>;
}

/** One record a request added or changed, as the journal keeps it; anything else rewrites the state. */
export type StateChange = { session: SessionRecord } | { subject: SubjectRecord };

export function emptyState(): EmulatorStateData {
  return {
    version: 2,
    trustAnchors: [],
    profiles: [],
    crls: [],
    subjects: [],
    roles: [],
    sessions: [],
    tags: {},
  };
}

/**
 * The persisted snapshot: the state plus `journalSeq`, the last journal record it already holds.
 * Version 1 (one JSON file, rewritten on every change, no journal) is read as version 2 at 0.
 */
export function parseSnapshot(text: string, where: string): { state: EmulatorStateData; journalSeq: number } {
  const data = JSON.parse(text) as Omit<Partial<EmulatorStateData>, "version"> & {
    version?: unknown;
    journalSeq?: unknown;
  };
  if (!data || typeof data !== "object" || (data.version !== 1 && data.version !== 2))
    throw new Error(`${where}: unsupported emulator state version ${String(data.version)}`);
  const { journalSeq, ...rest } = data;
  return {
    state: { ...emptyState(), ...rest, version: 2 },
    journalSeq: typeof journalSeq === "number" && Number.isSafeInteger(journalSeq) ? journalSeq : 0,
  };
}

/** The snapshot's text: 2-space JSON and a newline. */
export function formatSnapshot(state: EmulatorStateData, journalSeq: number): string {
  return `${JSON.stringify({ ...state, version: 2, journalSeq }, null, 2)}\n`;
}

/** Applies a journal record; a record applied twice changes nothing more. */
export function applyChange(state: EmulatorStateData, change: StateChange): void {
  if ("session" in change) {
    const { session } = change;
    if (!state.sessions.some((s) => s.accessKeyId === session.accessKeyId)) state.sessions.push(session);
    return;
  }
  const at = state.subjects.findIndex((s) => s.subjectId === change.subject.subjectId);
  if (at === -1) state.subjects.push(change.subject);
  else state.subjects[at] = change.subject;
}

/**
 * How long STS still recognises an expired session (to answer `ExpiredToken` rather than
 * `InvalidClientTokenId`); after that it is dropped.
 */
export const EXPIRED_SESSION_GRACE_MS = 3600_000;

/** Drops sessions expired for longer than {@link EXPIRED_SESSION_GRACE_MS}. */
export function pruneSessions(state: EmulatorStateData, now: Date): void {
  const cutoff = now.getTime() - EXPIRED_SESSION_GRACE_MS;
  if (state.sessions.some((s) => new Date(s.expiration).getTime() <= cutoff))
    state.sessions = state.sessions.filter((s) => new Date(s.expiration).getTime() > cutoff);
}
