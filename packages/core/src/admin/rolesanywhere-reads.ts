/**
 * The two Roles Anywhere reads of the admin plane (GetTrustAnchor, GetProfile), each one signed GET
 * over core's transport: no SDK client is loaded for them.
 * @module
 */
import * as v from "valibot";
import { IamRaError, type IamRaErrorCode, ServiceError } from "../errors.ts";
import { resolveEndpoint } from "../rolesanywhere/endpoint.ts";
import { readJsonError } from "../rolesanywhere/json-error.ts";
import { isRetryableAnswer, unreachable, withRetries } from "../rolesanywhere/retry.ts";
import { createNodeTransport, type HttpTransport } from "../rolesanywhere/transport.ts";
import { type HmacCredentials, signHmacRequest } from "../sigv4/hmac.ts";
import type { RolesAnywhereReadPort } from "./ports.ts";

/**
 * Options of {@link createRolesAnywhereReader}.
 * @public
 */
export interface RolesAnywhereReaderOptions {
  /** Signing region, and the region of the default endpoint. */
  region: string;
  /** A custom base URL (an emulator, a VPC endpoint); its path is signed. */
  endpoint?: string | undefined;
  /** Use the FIPS endpoint (not with `endpoint`). Default false. */
  useFips?: boolean | undefined;
  /** Use the dual-stack endpoint (not with `endpoint`). Default false. */
  useDualStack?: boolean | undefined;
  /** Allow a plain `http://` custom endpoint off this machine. Default false (http only to loopback). */
  allowHttp?: boolean | undefined;
  /** Asked before each request (an SDK credential provider caches and refreshes them). */
  credentials: () => Promise<HmacCredentials>;
  /** Default: a {@link createNodeTransport} without proxy. */
  transport?: HttpTransport | undefined;
  /** Default: the system clock. */
  clock?: { now(): Date } | undefined;
  /** Per-request timeout. Default 10 000 ms. */
  timeoutMs?: number | undefined;
  /** Attempts per read, including the first: throttling, 5xx and network failures are retried. Default 3. */
  maxAttempts?: number | undefined;
  /** Base of the retries' full-jitter backoff. Default 100 ms. */
  retryBaseMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

type Operation = "GetTrustAnchor" | "GetProfile";

/** The id of a trust anchor or profile ARN: a UUID, as Roles Anywhere makes them. */
const RESOURCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Only the fields the admin plane reads; anything else in an answer is ignored.
const TrustAnchorAnswer = v.object({
  trustAnchor: v.object({
    enabled: v.optional(v.boolean()),
    source: v.optional(
      v.object({
        sourceType: v.optional(v.string()),
        sourceData: v.optional(
          v.object({ x509CertificateData: v.optional(v.string()), acmPcaArn: v.optional(v.string()) }),
        ),
      }),
    ),
  }),
});
const ProfileAnswer = v.object({
  profile: v.object({
    enabled: v.optional(v.boolean()),
    roleArns: v.optional(v.array(v.string())),
    durationSeconds: v.optional(v.number()),
  }),
});

const PERMISSION: Record<Operation, string> = {
  GetTrustAnchor: "rolesanywhere:GetTrustAnchor",
  GetProfile: "rolesanywhere:GetProfile",
};

function toServiceError(
  operation: Operation,
  statusCode: number,
  headers: Record<string, unknown>,
  body: string,
): ServiceError {
  const { errorType, serviceMessage, requestId } = readJsonError(headers, body);
  const retryable = isRetryableAnswer(statusCode, errorType);
  let code: IamRaErrorCode = "access-denied";
  let hint: string;
  if (retryable) {
    code = statusCode >= 500 ? "service-unavailable" : "throttled";
    hint = "Roles Anywhere kept failing; retry in a moment.";
  } else if (
    /UnrecognizedClient|InvalidSignature|SignatureDoesNotMatch|ExpiredToken|InvalidClientTokenId/.test(
      errorType ?? "",
    )
  ) {
    hint =
      "Configure valid AWS credentials (--profile, AWS_PROFILE, or `aws sso login`), and check this machine's clock.";
  } else if (statusCode === 404) {
    code = "endpoint-invalid";
    hint =
      "Check the region and the Roles Anywhere endpoint (AWS_ENDPOINT_URL_ROLESANYWHERE, AWS_ENDPOINT_URL).";
  } else if (errorType === "ValidationException" || statusCode === 400) {
    code = "invalid-input";
    hint = "Check the ARN recorded in the namespace's state.";
  } else {
    hint = `The admin credentials need ${PERMISSION[operation]}.`;
  }
  return new ServiceError(
    code,
    `Roles Anywhere ${operation} failed (HTTP ${statusCode}${errorType ? ` ${errorType}` : ""}): ${serviceMessage ?? (body.slice(0, 200) || "no message")}`,
    { statusCode, errorType, serviceMessage, requestId, retryable },
    { hint },
  );
}

/**
 * A {@link RolesAnywhereReadPort} that makes each read one signed GET (SigV4, service
 * `rolesanywhere`) to the regional, FIPS, dual-stack or custom endpoint, retried on throttling,
 * 5xx and network failures. A trust anchor or profile that does not exist reads as undefined; any
 * other failure is a `ServiceError` naming the call, the service's answer and what to do.
 * @public
 */
export function createRolesAnywhereReader(options: RolesAnywhereReaderOptions): RolesAnywhereReadPort {
  const endpoint = resolveEndpoint(options);
  const clock = options.clock ?? { now: () => new Date() };
  const transport = options.transport ?? createNodeTransport();
  const basePath = endpoint.url.pathname.replace(/\/+$/, "");

  async function get<T>(
    operation: Operation,
    resource: string,
    arn: string,
    schema: v.GenericSchema<unknown, T>,
  ): Promise<T | undefined> {
    const id = arn.split("/").at(-1) ?? "";
    if (!RESOURCE_ID.test(id)) {
      throw new IamRaError("invalid-input", `"${arn}" is not the ARN of a Roles Anywhere ${resource}.`, {
        hint: "The namespace's state records it: check the state (iam-ra status) or re-create the resource.",
      });
    }
    const url = new URL(`${basePath}/${resource}/${id}`, endpoint.url);
    return await withRetries(
      {
        maxAttempts: options.maxAttempts ?? 3,
        retryBaseMs: options.retryBaseMs,
        signal: options.signal,
      },
      async () => {
        const headers = signHmacRequest(
          { method: "GET", url, body: "" },
          await options.credentials(),
          { region: endpoint.signingRegion, service: "rolesanywhere" },
          clock.now(),
        );
        const response = await transport({
          method: "GET",
          url,
          headers,
          body: "",
          timeoutMs: options.timeoutMs ?? 10_000,
          signal: options.signal,
        });
        if (response.statusCode < 200 || response.statusCode >= 300) {
          const error = toServiceError(
            operation,
            response.statusCode,
            response.headers as Record<string, unknown>,
            response.body,
          );
          // Only the service's own "no such resource": a 404 from something else is a wrong endpoint.
          if (error.errorType === "ResourceNotFoundException") return undefined;
          throw error;
        }
        let value: unknown;
        try {
          value = JSON.parse(response.body);
        } catch {
          value = undefined;
        }
        const parsed = v.safeParse(schema, value);
        if (!parsed.success) {
          throw new IamRaError(
            "internal",
            `Roles Anywhere ${operation} answered with a body that is not its JSON response.`,
            { hint: `Check that ${endpoint.url.origin} is a Roles Anywhere endpoint.` },
          );
        }
        return parsed.output;
      },
      unreachable(
        endpoint.url.origin,
        "Check network access to Roles Anywhere (or AWS_ENDPOINT_URL), and retry.",
      ),
    );
  }

  return {
    async trustAnchor(arn) {
      const trustAnchor = (await get("GetTrustAnchor", "trustanchor", arn, TrustAnchorAnswer))?.trustAnchor;
      if (!trustAnchor) return undefined;
      return {
        enabled: trustAnchor.enabled ?? false,
        sourceType: trustAnchor.source?.sourceType ?? "",
        certificatePem: trustAnchor.source?.sourceData?.x509CertificateData,
        pcaArn: trustAnchor.source?.sourceData?.acmPcaArn,
      };
    },
    async profile(arn) {
      const profile = (await get("GetProfile", "profile", arn, ProfileAnswer))?.profile;
      if (!profile) return undefined;
      return {
        enabled: profile.enabled ?? false,
        roleArns: profile.roleArns ?? [],
        durationSeconds: profile.durationSeconds ?? 3600,
      };
    },
  };
}
