/**
 * @iam-ra/cli: the `iam-ra` command. Commands are registered explicitly (oclif "explicit" strategy).
 * @module
 */
import { CredentialProcess } from "./commands/credential-process.ts";
import { CredentialsStatus } from "./commands/credentials/status.ts";
import { Demo } from "./commands/demo.ts";
import { EmulatorCommand } from "./commands/emulator.ts";
import { ProfileConfigure } from "./commands/profile/configure.ts";
import { ProfileList } from "./commands/profile/list.ts";
import { ProfileRemove } from "./commands/profile/remove.ts";
import { ReadCertificateData } from "./commands/read-certificate-data.ts";
import { Serve } from "./commands/serve.ts";
import { ServiceInstall } from "./commands/service/install.ts";
import { SignString } from "./commands/sign-string.ts";
import { Update } from "./commands/update.ts";

export const COMMANDS = {
  "credential-process": CredentialProcess,
  "credentials:status": CredentialsStatus,
  demo: Demo,
  emulator: EmulatorCommand,
  "profile:configure": ProfileConfigure,
  "profile:list": ProfileList,
  "profile:remove": ProfileRemove,
  "read-certificate-data": ReadCertificateData,
  serve: Serve,
  "service:install": ServiceInstall,
  "sign-string": SignString,
  update: Update,
};
