import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { planProfiles, renderProfiles } from "../src/services/profile.ts";

// The Nix modules write ~/.aws/config with nix/lib.nix's awsConfig; `iam-ra profile configure` writes
// it with planProfiles/renderProfiles. Both must give the golden bytes of nix/tests/golden for the same
// input (IAM_RA_UPDATE_GOLDEN=1 rewrites them from the TypeScript side). Every .nix file must parse.
// No nixpkgs can be fetched here: nix-bin's nix-instantiate evaluates the pure parts.

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const NIX = join(REPO, "nix");
const GOLDEN = join(NIX, "tests", "golden");
const hasNix = (() => {
  try {
    execFileSync("nix-instantiate", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const requireNix = Boolean(process.env.CI) && !process.env.GITHUB_ACTIONS;
if (!hasNix && requireNix) throw new Error("CI needs nix-bin (apt-get install nix-bin) for the Nix tests");

interface Case {
  command: string;
  certificate: {
    certPath: string;
    keyPath: string;
    intermediates: string | null;
    passphraseFile: string | null;
  };
  pkcs11: { lib: string | null; pinFile: string | null; keyPinFile: string | null };
  trustAnchorArn: string;
  region: string | null;
  sessionDuration: number | null;
  endpoint: string | null;
  cache: boolean;
  cacheDir: string | null;
  profiles: Array<{
    name: string;
    profileArn: string;
    roleArn: string;
    makeDefault: boolean;
    sessionDuration: number | null;
    output: string | null;
    extraConfig: Record<string, string>;
  }>;
}

/** What `iam-ra profile configure` writes for a case: one run per profile, in order, into a new file. */
function fromTypeScript(c: Case): string {
  let text = "";
  for (const p of c.profiles) {
    const flags = {
      certificate: c.certificate.certPath,
      "private-key": c.certificate.keyPath,
      intermediates: c.certificate.intermediates ?? undefined,
      "private-key-passphrase-file": c.certificate.passphraseFile ?? undefined,
      "pkcs11-lib": c.pkcs11.lib ?? undefined,
      "pkcs11-pin-file": c.pkcs11.pinFile ?? undefined,
      "pkcs11-key-pin-file": c.pkcs11.keyPinFile ?? undefined,
      "trust-anchor-arn": c.trustAnchorArn,
      "profile-arn": p.profileArn,
      region: c.region ?? undefined,
      "session-duration": p.sessionDuration ?? c.sessionDuration ?? undefined,
      endpoint: c.endpoint ?? undefined,
      cache: c.cache,
      "cache-dir": c.cacheDir ?? undefined,
    };
    const planned = planProfiles({
      specs: [{ name: p.name, roleArn: p.roleArn }],
      flags,
      command: [c.command],
      cwd: "/",
      output: p.output ?? undefined,
      set: Object.entries(p.extraConfig).sort(([a], [b]) => (a < b ? -1 : 1)),
      makeDefault: p.makeDefault,
    });
    text = renderProfiles(text, planned);
  }
  return text;
}

const cases = readdirSync(GOLDEN)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.slice(0, -".json".length));

describe("~/.aws/config: the Nix generator and profile configure agree byte for byte", () => {
  it.each(cases)("%s: profile configure gives the golden file", (name) => {
    const c = JSON.parse(readFileSync(join(GOLDEN, `${name}.json`), "utf8")) as Case;
    const text = fromTypeScript(c);
    if (process.env.IAM_RA_UPDATE_GOLDEN) writeFileSync(join(GOLDEN, `${name}.ini`), text);
    expect(text).toBe(readFileSync(join(GOLDEN, `${name}.ini`), "utf8"));
  });

  it.runIf(hasNix).each(cases)("%s: nix/lib.nix's awsConfig gives the golden file", (name) => {
    const out = execFileSync(
      "nix-instantiate",
      [
        "--eval",
        "--strict",
        "--json",
        "-E",
        `(import ${join(NIX, "lib.nix")}).awsConfig (builtins.fromJSON (builtins.readFile ${join(GOLDEN, `${name}.json`)}))`,
      ],
      { encoding: "utf8" },
    );
    expect(JSON.parse(out)).toBe(readFileSync(join(GOLDEN, `${name}.ini`), "utf8"));
  });
});

describe.runIf(hasNix)("the Nix files", () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith(".nix")) files.push(join(dir, e.name));
    }
  };
  walk(NIX);
  files.push(join(REPO, "flake.nix"));

  it.each(files.map((f) => relative(REPO, f)))("%s parses", (file) => {
    execFileSync("nix-instantiate", ["--parse", join(REPO, file)], { stdio: ["ignore", "ignore", "pipe"] });
  });

  it("ARN checks accept every partition and refuse other shapes", () => {
    const ok = (expr: string) =>
      JSON.parse(
        execFileSync(
          "nix-instantiate",
          ["--eval", "--strict", "--json", "-E", `let l = import ${join(NIX, "lib.nix")}; in ${expr}`],
          {
            encoding: "utf8",
          },
        ),
      );
    const ta = (p: string) =>
      `"arn:${p}:rolesanywhere:us-east-1:111122223333:trust-anchor/8d6a2f5c-2f1e-4a3b-9c4d-5e6f7a8b9c0d"`;
    for (const partition of [
      "aws",
      "aws-cn",
      "aws-us-gov",
      "aws-iso",
      "aws-iso-b",
      "aws-iso-e",
      "aws-iso-f",
      "aws-eusc",
    ])
      expect(ok(`l.isTrustAnchorArn ${ta(partition)}`), partition).toBe(true);
    expect(ok(`l.isTrustAnchorArn ${ta("aws-nope")}`)).toBe(false);
    expect(ok(`l.isRoleArn "arn:aws-us-gov:iam::111122223333:role/ops/reader"`)).toBe(true);
    expect(ok(`l.isRoleArn "arn:aws:iam::1111:role/x"`)).toBe(false);
    expect(ok(`l.isProfileName "my profile"`)).toBe(false);
  });
});

describe.runIf(hasNix)("host onboard's Nix snippet", () => {
  it("parses, and names only options the module declares", async () => {
    const { hostConfigSnippets } = await import("../src/services/host-output.ts");
    const { nix } = hostConfigSnippets(
      {
        role: "web-reader",
        roleArn: "arn:aws:iam::111122223333:role/iam-ra-prod-web-reader",
        profileArn:
          "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        trustAnchorArn:
          "arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/8d6a2f5c-2f1e-4a3b-9c4d-5e6f7a8b9c0d",
        region: "eu-west-1",
      } as never,
      { certificate: "/etc/iam-ra/cert.pem", privateKey: "/etc/iam-ra/key.pem", chain: null },
      { rolesAnywhere: "http://127.0.0.1:4566" },
    );
    const module = `{ ... }: { ${nix} }`;
    const parsed = execFileSync("nix-instantiate", ["--parse", "-E", module], { encoding: "utf8" });
    expect(parsed).toContain("iamRolesAnywhere");
    // Every option the snippet sets is declared in nix/options.nix.
    const options = readFileSync(join(NIX, "options.nix"), "utf8");
    for (const name of [
      "enable",
      "certPath",
      "keyPath",
      "trustAnchorArn",
      "region",
      "endpoint",
      "profileArn",
      "roleArn",
    ]) {
      expect(nix).toContain(`${name} = `);
      expect(options, name).toMatch(new RegExp(`\\b${name} = (mkOption|mkEnableOption)`));
    }
  });
});
