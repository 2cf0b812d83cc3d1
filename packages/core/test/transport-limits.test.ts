import { createServer } from "node:http";
import { describe, expect, test } from "vitest";
import { ServiceError, stripControlCharacters } from "../src/errors.ts";
import {
  createNodeTransport,
  createSession,
  MAX_RESPONSE_BYTES,
  TransportError,
} from "../src/rolesanywhere/index.ts";
import { createTestPki } from "../src/testing/index.ts";
import { parseCredentialMaterial } from "../src/x509/material.ts";
import { listenForTest } from "./helpers/loopback.ts";

/** A hostile loopback peer, closed when the test ends; its base URL. */
async function peer(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  return new URL(`http://127.0.0.1:${await listenForTest(createServer(handler))}/`);
}

const post = (url: URL, timeoutMs = 5_000, maxResponseBytes?: number) =>
  createNodeTransport(maxResponseBytes === undefined ? {} : { maxResponseBytes })({
    method: "POST",
    url,
    headers: { "content-type": "application/json" },
    body: "{}",
    timeoutMs,
  });

describe("the transport bounds what a peer can make it hold", () => {
  test("a streamed body past the cap is refused, not buffered", async () => {
    const url = await peer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      // Far more than the cap, with no content-length: the peer never stops on its own.
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    });
    const error = await post(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe("ERESPONSETOOLARGE");
    expect((error as Error).message).toContain(String(MAX_RESPONSE_BYTES));
  });

  test("a declared content-length past the cap is refused before reading", async () => {
    const url = await peer((_req, res) => {
      res.writeHead(200, { "content-length": String(10 * 1024 * 1024) });
      res.write("{");
    });
    const error = await post(url, 5_000, 1024).catch((e: unknown) => e);
    expect((error as TransportError).code).toBe("ERESPONSETOOLARGE");
  });

  test("a body at the cap is accepted", async () => {
    const body = JSON.stringify({ pad: "x".repeat(1000 - 10) });
    const url = await peer((_req, res) => res.end(body));
    const response = await post(url, 5_000, Buffer.byteLength(body));
    expect(response.body).toBe(body);
  });

  test("a peer trickling a byte at a time ends at the deadline, not never", async () => {
    const url = await peer((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write(" "), 50);
      res.on("close", () => clearInterval(timer));
    });
    const error = await post(url, 600).catch((e: unknown) => e);
    expect((error as TransportError).code).toBe("ETIMEDOUT");
    // The idle timeout never fires (a byte every 50 ms); only the whole-request deadline can.
    expect((error as Error).message).toMatch(/no complete response within 600 ms/);
  });
});

/** Any C0/C1 control character or a bidi override. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the test
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202e]/;

describe("text a peer sent never reaches a terminal as sent", () => {
  const HOSTILE = "Denied\u001b[2J\u001b]0;pwned\u0007\r\nfake: \u001b[32mOK\u001b[0m \u202eevil\u0085";

  test("stripControlCharacters removes escapes, line breaks and bidi overrides, keeps printable text", () => {
    const clean = stripControlCharacters(HOSTILE);
    expect(clean).toBe("Denied fake: OK  evil ");
    expect(stripControlCharacters("Zugriff verweigert: ä ✓")).toBe("Zugriff verweigert: ä ✓");
  });

  test("a CreateSession error from a hostile endpoint carries no control characters", async () => {
    const url = await peer((_req, res) => {
      // Node refuses control characters in headers, so the body carries the hostile error type.
      res.writeHead(403, { "content-type": "application/json" });
      res.end(JSON.stringify({ __type: "AccessDenied\u001b[1mException", message: HOSTILE }));
    });
    const pki = await createTestPki();
    const leaf = await pki.issueLeaf();
    const material = await parseCredentialMaterial({
      certificate: leaf.certificatePem,
      privateKey: leaf.privateKeyPem,
    });
    const error = await createSession(
      material,
      {
        trustAnchorArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/ta-1",
        profileArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/p-1",
        roleArn: "arn:aws:iam::123456789012:role/app",
      },
      { endpoint: url.href.replace(/\/$/, "") },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    const { message, serviceMessage, errorType } = error as ServiceError;
    for (const text of [message, serviceMessage ?? "", errorType ?? ""]) {
      expect(text).not.toMatch(CONTROL);
    }
    expect(serviceMessage).toContain("Denied fake: OK");
  });
});
