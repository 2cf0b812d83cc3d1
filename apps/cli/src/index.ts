/**
 * @iam-ra/cli: the `iam-ra` command. Commands are registered explicitly (oclif "explicit" strategy).
 * @module
 */
import { CaDelete } from "./commands/ca/delete.ts";
import { CaList } from "./commands/ca/list.ts";
import { CaSetup } from "./commands/ca/setup.ts";
import { CaSyncCrl } from "./commands/ca/sync-crl.ts";
import { CredentialProcess } from "./commands/credential-process.ts";
import { CredentialsStatus } from "./commands/credentials/status.ts";
import { Demo } from "./commands/demo.ts";
import { Destroy } from "./commands/destroy.ts";
import { Doctor } from "./commands/doctor.ts";
import { EmulatorCommand } from "./commands/emulator.ts";
import { HostList } from "./commands/host/list.ts";
import { HostOffboard } from "./commands/host/offboard.ts";
import { HostOnboard } from "./commands/host/onboard.ts";
import { HostRevoke } from "./commands/host/revoke.ts";
import { HostRotate } from "./commands/host/rotate.ts";
import { Init } from "./commands/init.ts";
import { K8sList } from "./commands/k8s/list.ts";
import { K8sOffboard } from "./commands/k8s/offboard.ts";
import { K8sOnboard } from "./commands/k8s/onboard.ts";
import { K8sSetup } from "./commands/k8s/setup.ts";
import { K8sTeardown } from "./commands/k8s/teardown.ts";
import { K8sWebhookConfig } from "./commands/k8s/webhook/config.ts";
import { K8sWebhookInstall } from "./commands/k8s/webhook/install.ts";
import { Migrate } from "./commands/migrate.ts";
import { ProfileConfigure } from "./commands/profile/configure.ts";
import { ProfileList } from "./commands/profile/list.ts";
import { ProfileRemove } from "./commands/profile/remove.ts";
import { ReadCertificateData } from "./commands/read-certificate-data.ts";
import { RoleCreate } from "./commands/role/create.ts";
import { RoleDelete } from "./commands/role/delete.ts";
import { RoleList } from "./commands/role/list.ts";
import { RoleUpdate } from "./commands/role/update.ts";
import { Serve } from "./commands/serve.ts";
import { ServiceInstall } from "./commands/service/install.ts";
import { SignString } from "./commands/sign-string.ts";
import { Status } from "./commands/status.ts";
import { Update } from "./commands/update.ts";

export { reportError } from "./error-report.ts";
export { commandNotFound } from "./hooks/command-not-found.ts";

export const COMMANDS = {
  "ca:delete": CaDelete,
  "ca:list": CaList,
  "ca:setup": CaSetup,
  "ca:sync-crl": CaSyncCrl,
  destroy: Destroy,
  doctor: Doctor,
  "host:list": HostList,
  "host:offboard": HostOffboard,
  "host:onboard": HostOnboard,
  "host:revoke": HostRevoke,
  "host:rotate": HostRotate,
  init: Init,
  "k8s:list": K8sList,
  "k8s:offboard": K8sOffboard,
  "k8s:onboard": K8sOnboard,
  "k8s:setup": K8sSetup,
  "k8s:teardown": K8sTeardown,
  "k8s:webhook:config": K8sWebhookConfig,
  "k8s:webhook:install": K8sWebhookInstall,
  migrate: Migrate,
  "role:create": RoleCreate,
  "role:delete": RoleDelete,
  "role:list": RoleList,
  "role:update": RoleUpdate,
  status: Status,
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
