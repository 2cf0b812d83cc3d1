import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

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
  version: 1;
  trustAnchors: TrustAnchorRecord[];
  profiles: ProfileRecord[];
  crls: CrlRecord[];
  subjects: SubjectRecord[];
  roles: RoleRecord[];
  sessions: SessionRecord[];
  tags: Record<string, Tag[]>;
}

export function emptyState(): EmulatorStateData {
  return {
    version: 1,
    trustAnchors: [],
    profiles: [],
    crls: [],
    subjects: [],
    roles: [],
    sessions: [],
    tags: {},
  };
}

/** Loads persisted state; a missing file is an empty state. */
export function loadState(path: string): EmulatorStateData {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return emptyState();
    throw e;
  }
  const data = JSON.parse(text) as Partial<EmulatorStateData>;
  if (data.version !== 1)
    throw new Error(`${path}: unsupported emulator state version ${String(data.version)}`);
  return { ...emptyState(), ...data } as EmulatorStateData;
}

/** Writes state atomically (temp file + rename), 0600: it holds issued secrets. */
export function saveState(path: string, data: EmulatorStateData): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
