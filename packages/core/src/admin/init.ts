/** `iam-ra init`: the namespace's init stack, its state document and the default CA scope. @module */
import { type DeployResult, deployStack } from "../cloudformation/deploy.ts";
import { stackName, validateName } from "../cloudformation/names.ts";
import { initTemplate } from "../cloudformation/templates.ts";
import { IamRaError } from "../errors.ts";
import { createEmptyState } from "../state/migrate.ts";
import type { CaMode } from "../state/schema.ts";
import { createStateStore } from "../state/store.ts";
import type { KeyAlgorithm } from "../x509/ca.ts";
import { type CaSetupResult, setUpCa } from "./ca.ts";
import { deployOptions, eventsFor, nsTags } from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";

/** Options of {@link initNamespace}. @public */
export interface InitOptions {
  /** Set up the `default` CA scope in this mode, unless it exists. Default `self-signed`; null: none. */
  caMode?: CaMode | null | undefined;
  pcaArn?: string | undefined;
  keyAlgorithm?: KeyAlgorithm | undefined;
  caValidityYears?: number | undefined;
  dryRun?: boolean | undefined;
}

/** What `init` did. @public */
export interface InitResult {
  outcome: "created" | "updated" | "unchanged" | "dry-run";
  namespace: string;
  region: string;
  stackName: string;
  bucket: string | null;
  kmsKeyArn: string | null;
  stateLocation: string | null;
  ca: CaSetupResult | null;
}

/**
 * Creates (or brings up to date) the namespace: the init stack, the state document, and the
 * default CA scope. Re-running it never wipes state and never replaces a CA.
 * @public
 */
export async function initNamespace(deps: AdminDeps, options: InitOptions = {}): Promise<InitResult> {
  validateName("namespace", deps.namespace);
  const name = stackName(deps.namespace, "init");
  deps.progress(`Deploying ${name} (bucket, KMS key, SSM parameters)`);
  const deployed: DeployResult = await deployStack({
    ...deployOptions(deps),
    stackName: name,
    template: initTemplate(deps.namespace),
    tags: nsTags(deps),
    dryRun: options.dryRun,
    onEvent: eventsFor(deps, name),
  });
  if (deployed.outcome === "dry-run") {
    return {
      outcome: "dry-run",
      namespace: deps.namespace,
      region: deps.region,
      stackName: name,
      bucket: null,
      kmsKeyArn: null,
      stateLocation: null,
      ca: null,
    };
  }
  const bucketName = deployed.outputs.BucketName!;
  const kmsKeyArn = deployed.outputs.KeyArn!;
  const bucket = deps.bucket(bucketName, kmsKeyArn);
  const store = createStateStore({
    objects: bucket,
    key: `${deps.namespace}/state.json`,
    clock: deps.clock,
    sleep: deps.sleep,
  });
  let created = false;
  if (!(await store.read())) {
    const state = createEmptyState(deps.namespace, deps.region, await deps.accountId(), deps.clock.now());
    state.init = { stackName: name, bucketName, kmsKeyArn, createdAt: deps.clock.now().toISOString() };
    try {
      await store.create(state);
      created = true;
    } catch (e) {
      if (!(e instanceof IamRaError && e.code === "state-conflict")) throw e; // a concurrent init won
    }
  }
  let ca: CaSetupResult | null = null;
  const mode = options.caMode === undefined ? "self-signed" : options.caMode;
  if (mode) {
    ca = await setUpCa(deps, "default", {
      mode,
      pcaArn: options.pcaArn,
      keyAlgorithm: options.keyAlgorithm,
      validityYears: options.caValidityYears,
      ifExists: "keep",
    });
  }
  const changed = created || deployed.outcome !== "unchanged" || ca?.outcome === "created";
  return {
    outcome: created || deployed.outcome === "created" ? "created" : changed ? "updated" : "unchanged",
    namespace: deps.namespace,
    region: deps.region,
    stackName: name,
    bucket: bucketName,
    kmsKeyArn,
    stateLocation: `s3://${bucketName}/${deps.namespace}/state.json`,
    ca,
  };
}
