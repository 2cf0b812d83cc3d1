/**
 * @iam-ra/cli: the `iam-ra` command. Commands are registered explicitly (oclif "explicit" strategy).
 * @module
 */
import { CredentialProcess } from "./commands/credential-process.ts";
import { Demo } from "./commands/demo.ts";
import { EmulatorCommand } from "./commands/emulator.ts";
import { ReadCertificateData } from "./commands/read-certificate-data.ts";
import { SignString } from "./commands/sign-string.ts";

export const COMMANDS = {
  "credential-process": CredentialProcess,
  demo: Demo,
  emulator: EmulatorCommand,
  "read-certificate-data": ReadCertificateData,
  "sign-string": SignString,
};
