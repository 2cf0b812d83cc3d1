import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// No container runtime or registry is reachable here, so the image itself is not built in CI;
// the bundle it copies is run as a process (stock-clients.test.ts), and its recipe is checked here.
const text = readFileSync(new URL("../../../docker/sidecar.Dockerfile", import.meta.url), "utf8");
const instructions = text
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"))
  .map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op!.toUpperCase(), args: rest.join(" ") };
  });
const stages = instructions.filter((i) => i.op === "FROM");
const final = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));

describe("docker/sidecar.Dockerfile", () => {
  it("is multi-stage on a slim Node 24 base", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.at(-1)!.args).toMatch(/^node:24-[a-z]+-slim$/);
  });

  it("ships one bundled file and no node_modules", () => {
    const copies = final.filter((i) => i.op === "COPY");
    expect(copies).toHaveLength(1);
    expect(copies[0]!.args).toMatch(/--from=build .*\/apps\/sidecar\/dist\/main\.js \/app\/main\.js$/);
  });

  it("runs as a non-root user, exec-form entrypoint (no shell), with a HEALTHCHECK and OCI labels", () => {
    const user = final.find((i) => i.op === "USER")!.args;
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(final.find((i) => i.op === "ENTRYPOINT")!.args).toBe('["node", "/app/main.js"]');
    expect(final.find((i) => i.op === "HEALTHCHECK")!.args).toMatch(
      /CMD \["node", "\/app\/main\.js", "healthcheck"\]$/,
    );
    const labels = final
      .filter((i) => i.op === "LABEL")
      .map((i) => i.args)
      .join(" ");
    for (const key of ["title", "description", "source", "licenses", "version"])
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    expect(final.some((i) => i.op === "RUN")).toBe(false);
  });

  it("installs with the pinned pnpm and the frozen lockfile", () => {
    const pinned = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"))
      .packageManager as string;
    expect(text).toContain(`npm install --global ${pinned}`);
    expect(text).toContain("pnpm install --frozen-lockfile");
  });
});
