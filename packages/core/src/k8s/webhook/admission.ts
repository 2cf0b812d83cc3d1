import * as v from "valibot";
import {
  buildPodVolumes,
  buildSidecarContainer,
  CONTAINER_CREDENTIALS_URI,
  type K8sCertificateSource,
  type K8sVolumeNames,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_UID,
  TOKEN_FILE,
  TOKEN_MOUNT_PATH,
  VOLUME_NAMES,
} from "../manifests.ts";
import type { CertificateSubject } from "../names.ts";
import type { WebhookConfig, WebhookRole } from "./config.ts";

/** The annotation naming the role, on a pod or its service account. @public */
export const ROLE_ANNOTATION = "iam-ra.dev/role";
/** Set on every pod the webhook injected, to the role: a pod carrying it is never injected again. @public */
export const INJECTED_ANNOTATION = "iam-ra.dev/injected";
/** Lists `container/VARIABLE` the pod already set and the webhook kept as they were. @public */
export const ENV_KEPT_ANNOTATION = "iam-ra.dev/env-kept";
/** The namespace label that opts a namespace in (`enabled`); on a pod, `disabled` opts it out. @public */
export const INJECT_LABEL = "iam-ra.dev/inject";
/** Namespaces the webhook never changes, whatever its configuration says. @public */
export const SYSTEM_NAMESPACES: readonly string[] = ["kube-system", "kube-public", "kube-node-lease"];
/** The variables every application container gets (unless it already sets them). @public */
export const INJECTED_ENV: readonly string[] = [
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/** One RFC 6902 operation (the webhook only adds). @public */
export interface JsonPatchOperation {
  op: "add";
  path: string;
  value: unknown;
}

/** What the webhook decided about one pod. @public */
export type AdmissionResult =
  /** Patched. */
  | "injected"
  /** Dry-run: would have been patched; allowed unchanged. */
  | "would-inject"
  /** Allowed unchanged: not ours to change (no role, already injected, not a pod create…). */
  | "skipped"
  /** Refused with a message (a role not onboarded in the namespace, a conflict). */
  | "denied"
  /** Refused because a dependency failed (the service account could not be read). */
  | "error";

/** An AdmissionReview v1 `response`. @public */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: "JSONPatch";
  /** base64 of the JSON patch. */
  patch?: string;
  status?: { code: number; message: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** The decision and what to log about it (never the pod spec). @public */
export interface AdmissionDecision {
  result: AdmissionResult;
  /** Why, in one sentence. */
  reason: string;
  role?: string | undefined;
  namespace?: string | undefined;
  /** The patch (also when dry-run withheld it), for logs and tests. */
  patch?: JsonPatchOperation[] | undefined;
  review: { apiVersion: string; kind: "AdmissionReview"; response: AdmissionResponse };
}

const AdmissionReviewSchema = v.object({
  apiVersion: v.literal("admission.k8s.io/v1"),
  kind: v.literal("AdmissionReview"),
  request: v.object({
    uid: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
    kind: v.object({ group: v.string(), version: v.string(), kind: v.string() }),
    namespace: v.optional(v.string()),
    operation: v.string(),
    dryRun: v.optional(v.boolean()),
    object: v.optional(v.unknown()),
  }),
});

/** A checked AdmissionReview v1 request. @public */
export type AdmissionRequest = v.InferOutput<typeof AdmissionReviewSchema>["request"];

/**
 * Checks that a parsed body is an AdmissionReview v1 with a request (uid, kind, operation). Never
 * throws: a malformed review is a message saying what is wrong.
 * @public
 */
export function parseAdmissionReview(
  body: unknown,
): { ok: true; request: AdmissionRequest } | { ok: false; message: string } {
  const parsed = v.safeParse(AdmissionReviewSchema, body);
  if (parsed.success) return { ok: true, request: parsed.output.request };
  const issue = parsed.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
  return {
    ok: false,
    message: `not an AdmissionReview v1 request: ${path ? `${path}: ` : ""}${issue.message}`,
  };
}

/** The service account's annotations (undefined: it does not exist), through the API server. @public */
export type ServiceAccountReader = (
  namespace: string,
  name: string,
) => Promise<Record<string, string> | undefined>;

/** What {@link reviewPodAdmission} needs. @public */
export interface AdmissionContext {
  /** The namespace-roles document in force (undefined: not loaded, every pod is refused). */
  config: WebhookConfig | undefined;
  /** The sidecar image injected, e.g. `ghcr.io/iam-ra/sidecar:1.2.3`. */
  sidecarImage: string;
  /** Audit mode: allow every pod unchanged, saying what would change (warnings, audit annotations). */
  dryRun: boolean;
  /** Resolves the service account's annotation; absent: only pod annotations count. */
  readServiceAccount?: ServiceAccountReader | undefined;
  /** The webhook's own namespace, never changed. */
  webhookNamespace?: string | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: pods are walked as plain JSON
type Json = Record<string, any>;
const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
/** RFC 6901: `~` and `/` in a key. */
const pointer = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");

function respond(
  request: Pick<AdmissionRequest, "uid">,
  decision: Omit<AdmissionDecision, "review">,
  response: Omit<AdmissionResponse, "uid">,
): AdmissionDecision {
  return {
    ...decision,
    review: {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: request.uid, ...response },
    },
  };
}

const allow = (request: AdmissionRequest, reason: string, extra: Partial<AdmissionDecision> = {}) =>
  respond(request, { result: "skipped", reason, ...extra }, { allowed: true });

const deny = (
  request: AdmissionRequest,
  result: "denied" | "error",
  code: number,
  message: string,
  extra: Partial<AdmissionDecision> = {},
) => respond(request, { result, reason: message, ...extra }, { allowed: false, status: { code, message } });

/**
 * Decides about one AdmissionReview request: a pod created in a namespace of the configuration
 * whose pod (first) or service account carries {@link ROLE_ANNOTATION} gets the sidecar, its
 * volumes and the container-credentials variables as a JSON patch; a role the namespace may not
 * use is refused with a message; everything else is allowed unchanged. Dry-run allows everything
 * unchanged and says what would change.
 * @public
 */
export async function reviewPodAdmission(
  request: AdmissionRequest,
  context: AdmissionContext,
): Promise<AdmissionDecision> {
  const { kind } = request;
  if (request.operation !== "CREATE" || kind.group !== "" || kind.kind !== "Pod") {
    return allow(request, `not a pod creation (${request.operation} ${kind.kind})`);
  }
  const pod = request.object;
  if (!isObject(pod) || !isObject(pod.spec) || !Array.isArray(pod.spec.containers)) {
    return deny(request, "denied", 400, "The request's object is not a pod (no spec.containers).");
  }
  const namespace = request.namespace || (isObject(pod.metadata) ? pod.metadata.namespace : undefined);
  if (typeof namespace !== "string" || namespace === "") {
    return deny(request, "denied", 400, "The request names no namespace.");
  }
  if (SYSTEM_NAMESPACES.includes(namespace) || namespace === context.webhookNamespace) {
    return allow(request, `system namespace ${namespace}`, { namespace });
  }
  const metadata: Json = isObject(pod.metadata) ? pod.metadata : {};
  const annotations: Json = isObject(metadata.annotations) ? metadata.annotations : {};
  const labels: Json = isObject(metadata.labels) ? metadata.labels : {};
  if (typeof annotations[INJECTED_ANNOTATION] === "string") {
    return allow(request, "already injected", { namespace });
  }
  const initContainers: Json[] = Array.isArray(pod.spec.initContainers) ? pod.spec.initContainers : [];
  if (initContainers.some((c) => isObject(c) && c.name === SIDECAR_CONTAINER_NAME)) {
    return allow(request, "the pod already runs the iam-ra sidecar", { namespace });
  }
  if (labels[INJECT_LABEL] === "disabled") return allow(request, "the pod opts out", { namespace });
  const roles = context.config?.namespaces[namespace];

  let role = typeof annotations[ROLE_ANNOTATION] === "string" ? annotations[ROLE_ANNOTATION] : undefined;
  let from = "pod";
  if (role === undefined && roles && context.readServiceAccount) {
    const serviceAccount =
      typeof pod.spec.serviceAccountName === "string" && pod.spec.serviceAccountName
        ? pod.spec.serviceAccountName
        : "default";
    let saAnnotations: Record<string, string> | undefined;
    try {
      saAnnotations = await context.readServiceAccount(namespace, serviceAccount);
    } catch (error) {
      return deny(
        request,
        "error",
        500,
        `Could not read service account ${namespace}/${serviceAccount} for its ${ROLE_ANNOTATION} annotation (${(error as Error).message}); the pod is refused rather than started without its credentials. Retry.`,
        { namespace },
      );
    }
    role = saAnnotations?.[ROLE_ANNOTATION];
    from = `service account ${serviceAccount}`;
  }
  if (role === undefined) return allow(request, `no ${ROLE_ANNOTATION} annotation`, { namespace });
  if (!context.config) {
    return deny(
      request,
      "error",
      503,
      "The iam-ra webhook has no namespace-roles configuration loaded yet; retry in a moment.",
      { namespace, role },
    );
  }
  const granted = roles?.roles[role];
  if (!roles || !granted) {
    const known = roles ? Object.keys(roles.roles).sort() : [];
    return deny(
      request,
      "denied",
      403,
      `Role "${role}" (${ROLE_ANNOTATION} on the ${from}) is not onboarded in namespace ${namespace}${known.length ? `; it may use: ${known.join(", ")}` : "; it may use no role"}. An admin onboards it with \`iam-ra k8s onboard <workload> --role ${role} --k8s-namespace ${namespace}\` and re-applies \`iam-ra k8s webhook install\`.`,
      { namespace, role },
    );
  }
  if (pod.spec.hostNetwork === true) {
    return deny(
      request,
      "denied",
      403,
      "A hostNetwork pod shares the node's loopback: the sidecar would serve credentials to the whole node. Run it without hostNetwork.",
      { namespace, role },
    );
  }
  const plan = planInjection(pod, { namespace, role, granted, issuer: roles.issuer, context });
  if ("conflict" in plan) return deny(request, "denied", 409, plan.conflict, { namespace, role });
  const summary = `iam-ra sidecar for role ${role} (from the ${from}), ${plan.patch.length} patch operations${plan.kept.length ? `; kept the pod's own ${plan.kept.join(", ")}` : ""}`;
  if (context.dryRun) {
    return respond(
      request,
      { result: "would-inject", reason: summary, role, namespace, patch: plan.patch },
      {
        allowed: true,
        warnings: [`iam-ra webhook (dry run): would inject the ${summary}`],
        auditAnnotations: { "would-inject": role },
      },
    );
  }
  return respond(
    request,
    { result: "injected", reason: summary, role, namespace, patch: plan.patch },
    { allowed: true, patchType: "JSONPatch", patch: encodePatch(plan.patch) },
  );
}

const encodePatch = (patch: JsonPatchOperation[]) => Buffer.from(JSON.stringify(patch)).toString("base64");

/** A name not among `taken`: `base`, else `base-2`, `base-3`… */
function freeName(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

function planInjection(
  pod: Json,
  input: { namespace: string; role: string; granted: WebhookRole; issuer: string; context: AdmissionContext },
): { patch: JsonPatchOperation[]; kept: string[] } | { conflict: string } {
  const spec: Json = pod.spec;
  const containers: Json[] = spec.containers;
  const initContainers: Json[] = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  const volumes: Json[] = Array.isArray(spec.volumes) ? spec.volumes : [];
  if (containers.some((c) => isObject(c) && c.name === SIDECAR_CONTAINER_NAME)) {
    return {
      conflict: `The pod has a container named ${SIDECAR_CONTAINER_NAME}, the sidecar's name. Rename it.`,
    };
  }
  const takenVolumes = new Set(volumes.filter(isObject).map((v) => String(v.name)));
  const names: K8sVolumeNames = {
    certificate: freeName(VOLUME_NAMES.certificate, takenVolumes),
    token: freeName(VOLUME_NAMES.token, takenVolumes),
  };
  const securityContext: Json | undefined = isObject(spec.securityContext) ? spec.securityContext : undefined;
  const fsGroup = typeof securityContext?.fsGroup === "number" ? securityContext.fsGroup : SIDECAR_UID;
  const serviceAccount =
    typeof spec.serviceAccountName === "string" && spec.serviceAccountName
      ? spec.serviceAccountName
      : "default";
  const { granted } = input;
  const source: K8sCertificateSource =
    granted.certificate.mode === "secret"
      ? { secretName: granted.certificate.secretName }
      : {
          csi: {
            issuerName: input.issuer,
            commonName: granted.commonName ?? serviceAccount,
            subject: Object.fromEntries(
              Object.entries(granted.subject).filter(([, values]) => values !== undefined),
            ) as CertificateSubject,
            duration: granted.duration,
            renewBefore: granted.renewBefore,
            fsGroup,
          },
        };
  const sidecar = buildSidecarContainer({
    image: input.context.sidecarImage,
    arns: granted,
    volumeNames: names,
  }).toJSON();
  const patch: JsonPatchOperation[] = [];
  const kept: string[] = [];
  const tokenMount = { name: names.token, mountPath: TOKEN_MOUNT_PATH, readOnly: true };
  // Application containers, then the pod's own init containers (the sidecar starts before them).
  const targets: Array<[string, Json]> = [
    ...containers.map((c, i): [string, Json] => [`/spec/containers/${i}`, c]),
    ...initContainers.map((c, i): [string, Json] => [`/spec/initContainers/${i}`, c]),
  ];
  for (const [path, container] of targets) {
    if (!isObject(container)) continue;
    const mounts: Json[] = Array.isArray(container.volumeMounts) ? container.volumeMounts : [];
    if (mounts.some((m) => isObject(m) && m.mountPath === TOKEN_MOUNT_PATH)) {
      return {
        conflict: `Container ${String(container.name)} already mounts ${TOKEN_MOUNT_PATH}, where the sidecar's token goes.`,
      };
    }
    const env: Json[] = Array.isArray(container.env) ? container.env : [];
    const set = new Set(env.filter(isObject).map((e) => String(e.name)));
    const add = [
      { name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: CONTAINER_CREDENTIALS_URI },
      { name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", value: TOKEN_FILE },
    ].filter((e) => {
      if (!set.has(e.name)) return true;
      kept.push(`${String(container.name)}/${e.name}`);
      return false;
    });
    // The region is a convenience: added when absent, never reported.
    if (!set.has("AWS_REGION") && !set.has("AWS_DEFAULT_REGION"))
      add.push({ name: "AWS_REGION", value: granted.region });
    if (!Array.isArray(container.env)) patch.push({ op: "add", path: `${path}/env`, value: add });
    else for (const e of add) patch.push({ op: "add", path: `${path}/env/-`, value: e });
    if (!Array.isArray(container.volumeMounts))
      patch.push({ op: "add", path: `${path}/volumeMounts`, value: [tokenMount] });
    else patch.push({ op: "add", path: `${path}/volumeMounts/-`, value: tokenMount });
  }
  const podVolumes = buildPodVolumes(source, names).map((v) => v.toJSON());
  if (!Array.isArray(spec.volumes)) patch.push({ op: "add", path: "/spec/volumes", value: podVolumes });
  else for (const v of podVolumes) patch.push({ op: "add", path: "/spec/volumes/-", value: v });
  if (!securityContext) patch.push({ op: "add", path: "/spec/securityContext", value: { fsGroup } });
  else if (securityContext.fsGroup === undefined)
    patch.push({ op: "add", path: "/spec/securityContext/fsGroup", value: fsGroup });
  // Last: prepending shifts the pod's own init containers, whose paths were used above.
  if (!Array.isArray(spec.initContainers))
    patch.push({ op: "add", path: "/spec/initContainers", value: [sidecar] });
  else patch.push({ op: "add", path: "/spec/initContainers/0", value: sidecar });
  const marks: Record<string, string> = {
    [INJECTED_ANNOTATION]: input.role,
    ...(kept.length ? { [ENV_KEPT_ANNOTATION]: kept.join(",") } : {}),
  };
  if (!isObject(pod.metadata)) patch.push({ op: "add", path: "/metadata", value: { annotations: marks } });
  else if (!isObject(pod.metadata.annotations))
    patch.push({ op: "add", path: "/metadata/annotations", value: marks });
  else
    for (const [key, value] of Object.entries(marks))
      patch.push({ op: "add", path: `/metadata/annotations/${pointer(key)}`, value });
  return { patch, kept };
}
