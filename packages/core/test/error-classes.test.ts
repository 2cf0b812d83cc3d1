import { describe, expect, it } from "vitest";
import { StackFailedError } from "../src/cloudformation/deploy.ts";
import { asIamRaError, CredentialMaterialError, IamRaError, ServiceError } from "../src/errors.ts";
import { StsError } from "../src/sts/client.ts";

// Other copies of the modules, as a second installed version or a separately bundled file has them
// (a query makes Vite load a module again).
const copyOf = (path: string): Promise<unknown> => import(/* @vite-ignore */ `${path}?copy`);
const copy = (await copyOf("../src/errors.ts")) as typeof import("../src/errors.ts");
const stsCopy = (await copyOf("../src/sts/client.ts")) as typeof import("../src/sts/client.ts");

describe("error classes: instanceof across copies of @iam-ra/core", () => {
  it("the copies are distinct classes (or this test proves nothing)", () => {
    expect(copy.IamRaError).not.toBe(IamRaError);
    expect(stsCopy.StsError).not.toBe(StsError);
    expect(Object.getPrototypeOf(new copy.IamRaError("internal", "x"))).not.toBe(IamRaError.prototype);
  });

  it("an error from another copy is an instance of its class and of each class above it, and of no other", () => {
    const material = new copy.CredentialMaterialError("private-key-password", "wrong", { source: "pkcs12" });
    expect(material).toBeInstanceOf(IamRaError);
    expect(material).toBeInstanceOf(CredentialMaterialError);
    expect(material).not.toBeInstanceOf(ServiceError);
    const sts = new stsCopy.StsError("GetCallerIdentity", "access-denied", "no", {
      statusCode: 403,
      retryable: false,
    });
    expect([sts instanceof IamRaError, sts instanceof ServiceError, sts instanceof StsError]).toEqual([
      true,
      true,
      true,
    ]);
    expect(sts).not.toBeInstanceOf(CredentialMaterialError);
    const base = new copy.IamRaError("invalid-input", "bad");
    expect(base).toBeInstanceOf(IamRaError);
    expect([base instanceof CredentialMaterialError, base instanceof ServiceError]).toEqual([false, false]);
    // asIamRaError keeps such an error as it is instead of calling it a bug.
    expect(asIamRaError(material)).toBe(material);
  });

  it("a subclass that names no class of its own is recognised as what it extends, not as itself", () => {
    class Unnamed extends copy.IamRaError {}
    class Named extends copy.IamRaError {
      static override readonly errorClass: string = "Named";
    }
    class LocalNamed extends IamRaError {
      static override readonly errorClass: string = "Named";
    }
    class LocalUnnamed extends IamRaError {}
    const unnamed = new Unnamed("internal", "x");
    expect(unnamed).toBeInstanceOf(IamRaError);
    expect(unnamed).not.toBeInstanceOf(LocalUnnamed);
    expect(new Named("internal", "x")).toBeInstanceOf(LocalNamed);
    expect(new StackFailedError("s", "ROLLBACK_COMPLETE", "r", [])).toBeInstanceOf(IamRaError);
  });

  it("plain errors, look-alikes and primitives are not iam-ra errors", () => {
    expect(new Error("x")).not.toBeInstanceOf(IamRaError);
    expect(Object.assign(new Error("x"), { name: "IamRaError", code: "internal" })).not.toBeInstanceOf(
      IamRaError,
    );
    for (const value of [null, undefined, "IamRaError", 1])
      expect(IamRaError[Symbol.hasInstance](value)).toBe(false);
    expect(asIamRaError(new Error("boom")).code).toBe("internal");
  });

  it("the class list is invisible to equality, JSON and inspection", () => {
    const error = new CredentialMaterialError("certificate-invalid", "bad", { source: "certificate" });
    expect(Object.keys(error)).toEqual(["name", "code", "hint", "source"]);
    expect(JSON.stringify(error)).toBe(
      JSON.stringify({ name: "CredentialMaterialError", code: "certificate-invalid", source: "certificate" }),
    );
    expect(error).toEqual(
      new CredentialMaterialError("certificate-invalid", "bad", { source: "certificate" }),
    );
  });
});
