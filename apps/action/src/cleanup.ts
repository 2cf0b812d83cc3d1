import * as core from "@actions/core";
import { STATE } from "./state.ts";

function parseState<T>(name: string, check: (value: unknown) => value is T): T | undefined {
  const raw = core.getState(name);
  if (raw === "") return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const isNameList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((n) => typeof n === "string" && /^AWS_[A-Z_]+$/.test(n));
const isProfileState = (v: unknown): v is { file: string; name: string } =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as { file?: unknown }).file === "string" &&
  typeof (v as { name?: unknown }).name === "string";

/**
 * The post step: exports empty values for every variable the main step exported (SDKs treat an
 * empty variable as unset; a step cannot truly unset one) and removes the profile it wrote,
 * deleting the credentials file once it holds no profile.
 */
export async function run(): Promise<void> {
  const exported = parseState(STATE.exported, isNameList) ?? [];
  const profile = parseState(STATE.profile, isProfileState);
  if (exported.length === 0 && !profile) {
    core.info("Nothing to clean up: the main step exported nothing.");
    return;
  }
  for (const name of exported) core.exportVariable(name, "");
  if (exported.length > 0) core.info(`Cleared ${exported.join(", ")}.`);
  if (profile) {
    const { removeProfile } = await import("./profile-file.ts");
    const outcome = await removeProfile(profile.file, profile.name);
    if (outcome === "deleted") core.info(`Deleted ${profile.file}.`);
    else if (outcome === "removed") core.info(`Removed profile ${profile.name} from ${profile.file}.`);
  }
}
