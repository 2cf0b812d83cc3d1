import { IamRaError } from "../errors.ts";

/**
 * DNS suffixes of the AWS partitions that run IAM Roles Anywhere.
 * @public
 */
export const PARTITIONS = {
  aws: {
    dnsSuffix: "amazonaws.com",
    dualStackDnsSuffix: "api.aws",
    regionRe: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/,
  },
  "aws-cn": {
    dnsSuffix: "amazonaws.com.cn",
    dualStackDnsSuffix: "api.amazonwebservices.com.cn",
    regionRe: /^cn-\w+-\d+$/,
  },
  "aws-us-gov": { dnsSuffix: "amazonaws.com", dualStackDnsSuffix: "api.aws", regionRe: /^us-gov-\w+-\d+$/ },
  "aws-iso": { dnsSuffix: "c2s.ic.gov", dualStackDnsSuffix: undefined, regionRe: /^us-iso-\w+-\d+$/ },
  "aws-iso-b": { dnsSuffix: "sc2s.sgov.gov", dualStackDnsSuffix: undefined, regionRe: /^us-isob-\w+-\d+$/ },
  "aws-iso-e": { dnsSuffix: "cloud.adc-e.uk", dualStackDnsSuffix: undefined, regionRe: /^eu-isoe-\w+-\d+$/ },
  "aws-iso-f": { dnsSuffix: "csp.hci.ic.gov", dualStackDnsSuffix: undefined, regionRe: /^us-isof-\w+-\d+$/ },
} as const;

/** A partition name. @public */
export type PartitionName = keyof typeof PARTITIONS;

/** The partition a region belongs to (`aws` when none matches). @public */
export function partitionOfRegion(region: string): PartitionName {
  for (const name of ["aws-us-gov", "aws-cn", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-iso"] as const) {
    if (PARTITIONS[name].regionRe.test(region)) return name;
  }
  return "aws";
}

/**
 * Options for {@link resolveEndpoint}.
 * @public
 */
export interface EndpointOptions {
  region: string;
  /** Use the FIPS endpoint. Default false. */
  useFips?: boolean | undefined;
  /** Use the dual-stack (IPv4+IPv6) endpoint. Default false. */
  useDualStack?: boolean | undefined;
  /** A custom base URL (e.g. the emulator). May carry a base path, which is then signed. */
  endpoint?: string | undefined;
  /**
   * Allow a plain `http://` custom endpoint off this machine (the signed request and the
   * credentials then cross the network unencrypted). Default false: http only to loopback.
   */
  allowHttp?: boolean | undefined;
}

/** Whether a URL's host is this machine: localhost, 127.0.0.0/8 or ::1. @public */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return (
    host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host)
  );
}

/**
 * Where to send CreateSession: the base URL (no trailing slash) and the signing region.
 * @public
 */
export interface ResolvedEndpoint {
  url: URL;
  signingRegion: string;
}

/**
 * Resolves the Roles Anywhere endpoint for a region, partition, FIPS and dual-stack, or a custom URL.
 * FIPS-style region names (`fips-us-east-1`, `us-east-1-fips`) select FIPS and are signed with the
 * plain region, so the scope stays valid (the official helper signs the raw name and fails).
 * @public
 */
export function resolveEndpoint(options: EndpointOptions): ResolvedEndpoint {
  let region = options.region;
  let useFips = options.useFips ?? false;
  const fipsForm = /^fips-(.+)$|^(.+)-fips$/.exec(region);
  if (fipsForm) {
    region = (fipsForm[1] ?? fipsForm[2])!;
    useFips = true;
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new IamRaError("invalid-input", `"${options.region}" is not an AWS region name.`, {
      hint: "Pass a region such as us-east-1 (or omit --region to use the trust anchor's).",
    });
  }
  if (options.endpoint) {
    if (useFips || options.useDualStack) {
      throw new IamRaError(
        "endpoint-invalid",
        "A custom endpoint cannot be combined with FIPS or dual-stack.",
        {
          hint: "Drop --endpoint, or drop the FIPS/dual-stack settings.",
        },
      );
    }
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new IamRaError("endpoint-invalid", `"${options.endpoint}" is not a URL.`, {
        hint: "Pass a full URL such as https://rolesanywhere.us-east-1.amazonaws.com or http://127.0.0.1:4566",
      });
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new IamRaError("endpoint-invalid", `Endpoint scheme "${url.protocol}" is not http or https.`, {
        hint: "Use an https:// (or, for local testing, http://) URL.",
      });
    }
    if (url.protocol === "http:" && !options.allowHttp && !isLoopbackHost(url.hostname)) {
      throw new IamRaError(
        "endpoint-invalid",
        `The endpoint ${url.origin} is plain http off this machine: the signed request and the credentials would cross the network unencrypted.`,
        {
          hint: "Use https://, or pass --allow-http (IAM_RA_ALLOW_HTTP=true) if the network path is trusted.",
        },
      );
    }
    if (url.search || url.hash) {
      throw new IamRaError("endpoint-invalid", "The endpoint URL must not carry a query or fragment.", {
        hint: "Pass only scheme, host, port and an optional base path.",
      });
    }
    url.pathname = url.pathname.replace(/\/+$/, "");
    return { url, signingRegion: region };
  }
  const partition = PARTITIONS[partitionOfRegion(region)];
  const suffix = options.useDualStack ? partition.dualStackDnsSuffix : partition.dnsSuffix;
  if (suffix === undefined) {
    throw new IamRaError("endpoint-invalid", `Region ${region} has no dual-stack endpoint.`, {
      hint: "Turn dual-stack off for this partition.",
    });
  }
  const host = `${useFips ? "rolesanywhere-fips" : "rolesanywhere"}.${region}.${suffix}`;
  return { url: new URL(`https://${host}`), signingRegion: region };
}
