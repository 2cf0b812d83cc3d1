import { CredentialMaterialError, IamRaError, ServiceError } from "@iam-ra/core";
import { describe, expect, it } from "vitest";
import { describeFailure } from "../src/failure.ts";

describe("describeFailure", () => {
  it("is the message and the hint on one line", () => {
    expect(describeFailure(new IamRaError("invalid-input", "Bad\ninput.", { hint: "Fix it." }))).toBe(
      "Bad input. Hint: Fix it.",
    );
  });

  it("rewords core hints that name CLI flags, and every certificate or key hint, for the action", () => {
    const throttled = new ServiceError(
      "throttled",
      "CreateSession failed (HTTP 429).",
      { statusCode: 429, retryable: true },
      { hint: "CreateSession is throttled (10 TPS per account); use --cache or `iam-ra serve`." },
    );
    expect(describeFailure(throttled)).toMatch(
      /Hint: CreateSession allows 10 requests per second .* retry-max-attempts/,
    );
    const material = new CredentialMaterialError(
      "private-key-password",
      "The passphrase does not decrypt the private key.",
      {
        hint: "Check the passphrase.",
      },
    );
    expect(describeFailure(material)).toMatch(/Hint: Set private-key-passphrase to the password/);
    // A hint in plain words stays.
    const signature = new ServiceError(
      "invalid-signature",
      "CreateSession failed.",
      { statusCode: 403, retryable: false },
      { hint: "Check the clock." },
    );
    expect(describeFailure(signature)).toBe("CreateSession failed. Hint: Check the clock.");
  });

  it("calls anything else a bug, in one line", () => {
    expect(describeFailure(new TypeError("x is not\na function"))).toBe(
      "Unexpected error (a bug in iam-ra-action): TypeError: x is not a function Hint: Please report it at https://github.com/iam-ra/iam-ra/issues with what you ran and its output (DEBUG=iam-ra* adds the stack trace; remove secrets first).",
    );
  });
});
