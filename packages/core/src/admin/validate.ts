import { validateName } from "../cloudformation/names.ts";
import { IamRaError } from "../errors.ts";

const POLICY_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/;
const PCA_ARN = /^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-f-]+$/;

/**
 * Checks a command's input before any AWS call (the workflows check again): names, durations,
 * policy and Private CA ARNs, validity periods, binding tags. Throws `invalid-input`-style errors.
 * @public
 */
export function validateAdminInput(input: {
  namespace: string;
  scope?: string | undefined;
  role?: string | undefined;
  hostname?: string | undefined;
  policies?: readonly string[] | undefined;
  sessionDurationSeconds?: number | undefined;
  bindingTag?: string | undefined;
  pcaArn?: string | undefined;
  validityDays?: number | undefined;
  caValidityYears?: number | undefined;
}): void {
  validateName("namespace", input.namespace);
  if (input.scope !== undefined) validateName("scope", input.scope);
  if (input.role !== undefined) validateName("role", input.role, input.namespace);
  if (input.hostname !== undefined) validateName("hostname", input.hostname);
  for (const p of input.policies ?? []) {
    if (!POLICY_ARN.test(p))
      throw new IamRaError("invalid-input", `"${p}" is not a managed policy ARN.`, {
        hint: "Pass e.g. arn:aws:iam::aws:policy/ReadOnlyAccess.",
      });
  }
  const d = input.sessionDurationSeconds;
  if (d !== undefined && (!Number.isInteger(d) || d < 900 || d > 43200)) {
    throw new IamRaError("duration-invalid", `Session duration ${d} is outside 900–43200 seconds.`, {
      hint: "Pass --session-duration between 900 and 43200.",
    });
  }
  if (input.bindingTag !== undefined && !/^x509(Subject|Issuer|SAN)\/[A-Za-z]+$/.test(input.bindingTag)) {
    throw new IamRaError("invalid-input", `"${input.bindingTag}" is not a certificate principal tag.`, {
      hint: "Use x509Subject/OU (default), x509Subject/CN or another x509Subject/<attribute>.",
    });
  }
  if (input.pcaArn !== undefined && !PCA_ARN.test(input.pcaArn)) {
    throw new IamRaError("arn-invalid", `"${input.pcaArn}" is not an AWS Private CA ARN.`, {
      hint: "Pass arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>.",
    });
  }
  const v = input.validityDays;
  if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 3650)) {
    throw new IamRaError("invalid-input", `Validity ${v} days is outside 1–3650.`, {
      hint: "Pass --validity-days between 1 and 3650.",
    });
  }
  const y = input.caValidityYears;
  if (y !== undefined && (!Number.isInteger(y) || y < 1 || y > 30)) {
    throw new IamRaError("invalid-input", `CA validity ${y} years is outside 1–30.`, {
      hint: "Pass --ca-validity-years between 1 and 30.",
    });
  }
}
