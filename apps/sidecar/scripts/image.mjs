#!/usr/bin/env node
// Builds the sidecar image from scratch — the one recipe, here, in CI and in the release workflow:
// for each architecture a root filesystem of
//   - the Node runtime published on the npm registry (node-linux-<arch>, the binary only),
//   - the C runtime libraries it links against and the CA certificates, from Debian's packages
//     (`apt-get download` + `dpkg-deb -x`),
//   - /etc/passwd and /etc/group with the non-root user 1000 (iam-ra),
//   - /app/main.js and /app/webhook.js, bundled here with the package's own options,
//   - pkcs11js (the optional PKCS#11 binding, a Node-API addon) where it was built for the arch,
//   - an SPDX SBOM of all of it at /usr/share/doc/iam-ra/sbom.spdx.json (and next to the output),
// then docker/sidecar.Containerfile (FROM scratch, COPY rootfs-<arch>/) built with podman or docker.
// No base image is pulled. Downloads are cached in node_modules/.cache/iam-ra-image.
//
//   node apps/sidecar/scripts/image.mjs [--image sidecar|emulator] [--arch amd64] [--arch arm64]
//                                       [--tag NAME] [--rootfs-only] [--out DIR] [--engine podman|docker]
// `--image emulator` builds the emulator image (docker/emulator.Containerfile) by the same recipe:
// the same runtime and libraries, with /app/emulator.js (iam-ra-emulator) instead of the sidecar.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { bundleOptions } from "./bundle-options.mjs";

/** The Node runtime in the image (the npm registry's node-linux-<arch> package). */
export const IMAGE_NODE_VERSION = "24.22.3";
const DEBIAN_ARCH = { amd64: "amd64", arm64: "arm64" };
const NPM_ARCH = { amd64: "x64", arm64: "arm64" };
const LIB_DIR = { amd64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" };
/** What node links against (libc6: libc, libm, libdl, libpthread, the loader) and the CA bundle. */
const DEBIAN_PACKAGES = ["libc6", "libstdc++6", "libgcc-s1", "ca-certificates"];
/** The shared objects node loads (its DT_NEEDED entries and what libc itself needs), nothing else. */
const SONAMES = new Set([
  "ld-linux-x86-64.so.2",
  "ld-linux-aarch64.so.1",
  "libc.so.6",
  "libm.so.6",
  "libdl.so.2",
  "libpthread.so.0",
  "librt.so.1",
  "libstdc++.so.6",
  "libgcc_s.so.1",
]);

const sidecar = fileURLToPath(new URL("..", import.meta.url));
const repo = join(sidecar, "..", "..");
const emulatorPackage = join(repo, "packages", "emulator");

/**
 * The emulator image's entry: iam-ra-emulator with its flags defaulted from IAM_RA_EMULATOR_*
 * variables (a CI service container takes env, not arguments); arguments still win.
 */
const EMULATOR_ENTRY = `import { main } from "./cli.ts";
const flags = [["host", "HOST"], ["port", "PORT"], ["region", "REGION"], ["account-id", "ACCOUNT_ID"],
  ["persist", "PERSIST"], ["iam-endpoint", "IAM_ENDPOINT"], ["trust-policy-ttl-ms", "TRUST_POLICY_TTL_MS"],
  ["acm-pca-endpoint", "ACM_PCA_ENDPOINT"]];
const args = flags.flatMap(([flag, name]) => {
  const value = process.env[\`IAM_RA_EMULATOR_\${name}\`];
  return value ? [\`--\${flag}\`, value] : [];
});
await main([...args, ...process.argv.slice(2)]);
`;

/** What each image holds: its bundles (file → entry), Containerfile, package and data directory. */
const TARGETS = {
  sidecar: {
    entries: [
      ["main.js", { entryPoints: ["src/main.ts"] }],
      ["webhook.js", { entryPoints: ["src/webhook.ts"] }],
    ],
    containerfile: "sidecar.Containerfile",
    packageDir: sidecar,
    pkcs11: true,
  },
  emulator: {
    entries: [
      [
        "emulator.js",
        {
          stdin: {
            contents: EMULATOR_ENTRY,
            resolveDir: join(emulatorPackage, "src"),
            sourcefile: "image-entry.ts",
            loader: "ts",
          },
        },
      ],
    ],
    containerfile: "emulator.Containerfile",
    packageDir: emulatorPackage,
    pkcs11: false,
    dataDir: "data",
  },
};
const cache = join(repo, "node_modules", ".cache", "iam-ra-image");

const run = (cmd, args, options = {}) =>
  execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20, ...options })
    .toString()
    .trim();

/**
 * A download from a registry (`npm pack`, `apt-get download`): each attempt bounded to 3 minutes, and
 * up to 3 attempts 10 and 30 s apart, since a registry's passing failure (a reset connection, a
 * timed-out mirror) is not a broken build. The last failure is thrown with what the tool printed.
 */
function download(what, cmd, args, options) {
  const pauses = [10_000, 30_000];
  for (let attempt = 1; ; attempt++) {
    try {
      return run(cmd, args, { timeout: 180_000, killSignal: "SIGKILL", ...options });
    } catch (error) {
      const said = `${error.stderr ?? ""}`.trim().split("\n").slice(-3).join("\n  ");
      const why =
        error.signal === "SIGKILL"
          ? "timed out after 180 s"
          : `failed (exit ${error.status ?? error.code})${said ? `:\n  ${said}` : ""}`;
      if (attempt > pauses.length) {
        throw new Error(`${what}: ${cmd} ${args.join(" ")} ${why} (${attempt} attempts)`);
      }
      console.error(
        `image: ${what}: attempt ${attempt} ${why}; trying again in ${pauses[attempt - 1] / 1000} s`,
      );
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pauses[attempt - 1]);
    }
  }
}

/** node-linux-<arch>@IMAGE_NODE_VERSION's bin/node, fetched once. */
function nodeBinary(arch) {
  const dir = join(cache, `node-${IMAGE_NODE_VERSION}-${arch}`);
  const bin = join(dir, "package", "bin", "node");
  if (existsSync(bin)) return bin;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const spec = `node-linux-${NPM_ARCH[arch]}@${IMAGE_NODE_VERSION}`;
  // Without the npm_config_* settings `pnpm run` exports (pnpm's own, for its installs); the
  // user's NPM_CONFIG_* and the machine's CA and proxies stay (turbo.json passes them through).
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("npm_config_")),
  );
  const tgz = download(`fetching ${spec}`, "npm", ["pack", "--silent", spec], { cwd: dir, env })
    .split("\n")
    .at(-1);
  run("tar", ["-xzf", tgz, "package/bin/node", "package/LICENSE"], { cwd: dir });
  rmSync(join(dir, tgz));
  return bin;
}

/** The .deb files of DEBIAN_PACKAGES for an architecture, fetched once; [path, package, version]. */
function debianPackages(arch) {
  const dir = join(cache, `debian-${arch}`);
  mkdirSync(dir, { recursive: true });
  const debArch = DEBIAN_ARCH[arch];
  const host = run("dpkg", ["--print-architecture"]);
  if (debArch !== host && !run("dpkg", ["--print-foreign-architectures"]).split("\n").includes(debArch)) {
    throw new Error(
      `Debian packages for ${debArch} need: dpkg --add-architecture ${debArch} && apt-get update (as root).`,
    );
  }
  const names = DEBIAN_PACKAGES.map((p) => (p === "ca-certificates" ? p : `${p}:${debArch}`));
  const have = () => readdirSync(dir).filter((f) => f.endsWith(".deb"));
  if (have().length < DEBIAN_PACKAGES.length)
    download(`fetching Debian packages (${debArch})`, "apt-get", ["download", ...names], { cwd: dir });
  return have().map((f) => {
    const path = join(dir, f);
    const [name, version, architecture] = run("dpkg-deb", ["-f", path, "Package", "Version", "Architecture"])
      .split("\n")
      .map((l) => l.split(": ")[1]);
    return { path, name, version, architecture };
  });
}

/** npm packages inside a bundle, from esbuild's metafile inputs: name → version. */
function bundledPackages(metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (!m) continue;
    // Inputs are relative to the sidecar package (esbuild's absWorkingDir).
    const pjson = join(sidecar, input.slice(0, input.lastIndexOf(m[1]) + m[1].length), "package.json");
    if (!packages.has(m[1]) && existsSync(pjson))
      packages.set(m[1], JSON.parse(readFileSync(pjson, "utf8")).version);
  }
  return packages;
}

/** The ELF machine readelf reports for each architecture's shared objects. */
const ELF_MACHINE = { amd64: "X86-64", arm64: "AArch64" };

/**
 * The workspace's pkcs11js (the optional PKCS#11 binding the bundle imports only for token keys), if
 * its native addon was built for `arch`. It is a Node-API addon, so the one built by the host's Node
 * loads in the image's Node; the other architecture would need a cross-compiler, so it is left out.
 */
function pkcs11Addon(arch) {
  let dir;
  try {
    dir = dirname(createRequire(join(sidecar, "package.json")).resolve("pkcs11js/package.json"));
  } catch {
    return undefined;
  }
  const addon = join(dir, "build", "Release", "pkcs11.node");
  if (!existsSync(addon)) return undefined;
  if (!run("readelf", ["-h", addon]).includes(ELF_MACHINE[arch])) return undefined;
  return { dir, version: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version };
}

/** Assembles rootfs-<arch> under `out`; returns what went in (for the SBOM). */
async function assemble(arch, out, bundles, target = TARGETS.sidecar) {
  const root = join(out, `rootfs-${arch}`);
  rmSync(root, { recursive: true, force: true });
  for (const d of ["usr/local/bin", "etc/ssl/certs", "app", "tmp", "usr/share/doc/iam-ra"])
    mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  // The emulator's state volume: writable by the non-root user whatever uid Kubernetes or CI picks.
  if (target.dataDir) {
    mkdirSync(join(root, target.dataDir));
    chmodSync(join(root, target.dataDir), 0o1777);
  }
  copyFileSync(nodeBinary(arch), join(root, "usr/local/bin/node"));
  chmodSync(join(root, "usr/local/bin/node"), 0o555);
  const debs = debianPackages(arch);
  const unpack = join(out, `debs-${arch}`);
  rmSync(unpack, { recursive: true, force: true });
  for (const deb of debs) run("dpkg-deb", ["-x", deb.path, unpack]);
  // Only the shared libraries and the loader, into /lib/<triplet> where the loader looks (Debian's
  // libc6 has them in /lib, libstdc++6 in /usr/lib): no locales, docs or tools from the packages.
  const libDir = join(root, "lib", LIB_DIR[arch]);
  mkdirSync(libDir, { recursive: true });
  for (const from of [join(unpack, "lib", LIB_DIR[arch]), join(unpack, "usr/lib", LIB_DIR[arch])]) {
    if (!existsSync(from)) continue;
    for (const f of readdirSync(from)) {
      if (!SONAMES.has(f)) continue;
      copyFileSync(join(from, f), join(libDir, f)); // follows the packages' symlinks
    }
  }
  // The loader also where node's ELF interpreter path points (/lib64 on amd64; /lib on arm64).
  if (arch === "amd64") {
    mkdirSync(join(root, "lib64"), { recursive: true });
    copyFileSync(join(libDir, "ld-linux-x86-64.so.2"), join(root, "lib64", "ld-linux-x86-64.so.2"));
  } else copyFileSync(join(libDir, "ld-linux-aarch64.so.1"), join(root, "lib", "ld-linux-aarch64.so.1"));
  // One CA bundle of Debian's ca-certificates (what update-ca-certificates would write).
  const certs = join(unpack, "usr/share/ca-certificates/mozilla");
  writeFileSync(
    join(root, "etc/ssl/certs/ca-certificates.crt"),
    readdirSync(certs)
      .sort()
      .map((f) => readFileSync(join(certs, f), "utf8"))
      .join(""),
  );
  rmSync(unpack, { recursive: true, force: true });
  writeFileSync(
    join(root, "etc/passwd"),
    "root:x:0:0:root:/root:/sbin/nologin\niam-ra:x:1000:1000:iam-ra:/nonexistent:/sbin/nologin\n",
  );
  writeFileSync(join(root, "etc/group"), "root:x:0:\niam-ra:x:1000:\n");
  for (const [name, text] of Object.entries(bundles)) {
    writeFileSync(join(root, "app", name), text);
    chmodSync(join(root, "app", name), 0o444);
  }
  // Only what pkcs11js loads: its entry, the addon, and its manifest and licence.
  const pkcs11 = target.pkcs11 ? pkcs11Addon(arch) : undefined;
  if (pkcs11) {
    const to = join(root, "app", "node_modules", "pkcs11js");
    mkdirSync(join(to, "build", "Release"), { recursive: true });
    for (const f of ["package.json", "index.js", "LICENSE", "build/Release/pkcs11.node"])
      copyFileSync(join(pkcs11.dir, f), join(to, f));
  }
  return { root, debs, pkcs11 };
}

function sha256(path) {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** An SPDX 2.3 document: the Node runtime, the Debian packages and the npm packages in the bundles. */
function sbom(arch, version, debs, npmPackages, pkcs11, image = "sidecar") {
  const ref = (s) => `SPDXRef-${s.replace(/[^A-Za-z0-9.-]/g, "-")}`;
  const pkg = (id, name, versionInfo, purl, extra = {}) => ({
    SPDXID: ref(id),
    name,
    versionInfo,
    downloadLocation: "NOASSERTION",
    externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: purl }],
    ...extra,
  });
  const packages = [
    pkg(`iam-ra-${image}`, `@iam-ra/${image}`, version, `pkg:npm/%40iam-ra/${image}@${version}`, {
      licenseDeclared: "Apache-2.0",
    }),
    pkg(
      `node-${arch}`,
      `node-linux-${NPM_ARCH[arch]}`,
      IMAGE_NODE_VERSION,
      `pkg:npm/node-linux-${NPM_ARCH[arch]}@${IMAGE_NODE_VERSION}`,
    ),
    ...debs.map((d) =>
      pkg(`deb-${d.name}`, d.name, d.version, `pkg:deb/debian/${d.name}@${d.version}?arch=${d.architecture}`),
    ),
    ...(pkcs11
      ? [
          pkg("npm-pkcs11js", "pkcs11js", pkcs11.version, `pkg:npm/pkcs11js@${pkcs11.version}`, {
            licenseDeclared: "MIT",
          }),
        ]
      : []),
    ...[...npmPackages].map(([name, v]) =>
      pkg(`npm-${name}`, name, v, `pkg:npm/${name.replace("@", "%40")}@${v}`),
    ),
  ];
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: `iam-ra-${image}-${version}-${arch}`,
    documentNamespace: `https://github.com/iam-ra/iam-ra/sbom/${image}-${version}-${arch}`,
    creationInfo: {
      created: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      creators: ["Tool: iam-ra image.mjs"],
    },
    packages,
    relationships: packages.slice(1).map((p) => ({
      spdxElementId: packages[0].SPDXID,
      relationshipType: "CONTAINS",
      relatedSpdxElement: p.SPDXID,
    })),
  };
}

/** Builds the root filesystems (and the image unless rootfsOnly); returns where and what. */
export async function buildImage(options) {
  const archs = options.archs?.length ? options.archs : ["amd64"];
  for (const a of archs) if (!DEBIAN_ARCH[a]) throw new Error(`unknown architecture ${a} (amd64, arm64)`);
  const out = options.out ?? join(repo, "node_modules", ".cache", "iam-ra-image", "build");
  mkdirSync(out, { recursive: true });
  const image = options.target ?? "sidecar";
  const target = TARGETS[image];
  if (!target) throw new Error(`unknown image ${image} (sidecar, emulator)`);
  const version = JSON.parse(readFileSync(join(target.packageDir, "package.json"), "utf8")).version;
  const bundles = {};
  const npmPackages = new Map();
  for (const [name, entry] of target.entries) {
    const result = await build({
      ...bundleOptions,
      absWorkingDir: sidecar,
      ...entry,
      write: false,
      metafile: true,
      legalComments: "inline",
      outfile: join(out, name),
    });
    bundles[name] = result.outputFiles[0].text;
    for (const [n, v] of bundledPackages(result.metafile)) npmPackages.set(n, v);
  }
  const results = [];
  for (const arch of archs) {
    const { root, debs, pkcs11 } = await assemble(arch, out, bundles, target);
    const doc = sbom(arch, version, debs, npmPackages, pkcs11, image);
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    writeFileSync(join(root, "usr/share/doc/iam-ra/sbom.spdx.json"), text);
    writeFileSync(join(out, `sbom-${arch}.spdx.json`), text);
    results.push({
      arch,
      root,
      bytes: du(root),
      sbom: join(out, `sbom-${arch}.spdx.json`),
      pkcs11: Boolean(pkcs11),
    });
  }
  copyFileSync(join(repo, "docker", target.containerfile), join(out, "Containerfile"));
  if (!options.rootfsOnly) {
    const engine = options.engine ?? "podman";
    const revision = (() => {
      try {
        return run("git", ["rev-parse", "HEAD"], { cwd: repo });
      } catch {
        return "unknown";
      }
    })();
    for (const { arch } of results) {
      const tag = archs.length > 1 ? `${options.tag}-${arch}` : options.tag;
      run(
        engine,
        [
          "build",
          ...(engine === "podman" ? ["--format", "docker"] : []),
          "--platform",
          `linux/${arch}`,
          "--build-arg",
          `TARGETARCH=${arch}`,
          "--build-arg",
          `VERSION=${version}`,
          "--build-arg",
          `REVISION=${revision}`,
          "-f",
          join(out, "Containerfile"),
          "-t",
          tag,
          out,
        ],
        { env: { ...process.env, BUILDAH_FORMAT: "docker" } },
      );
    }
  }
  return {
    out,
    version,
    results,
    sha: Object.fromEntries(results.map((r) => [r.arch, sha256(join(r.root, "usr/local/bin/node"))])),
  };
}

function du(dir) {
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    bytes += e.isDirectory() ? du(p) : statSync(p).size;
  }
  return bytes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      arch: { type: "string", multiple: true },
      tag: { type: "string" },
      image: { type: "string", default: "sidecar" },
      out: { type: "string" },
      engine: { type: "string" },
      "rootfs-only": { type: "boolean" },
    },
  });
  const result = await buildImage({
    archs: values.arch,
    target: values.image,
    tag: values.tag ?? `iam-ra-${values.image}:dev`,
    out: values.out,
    engine: values.engine,
    rootfsOnly: values["rootfs-only"],
  });
  for (const r of result.results)
    console.log(
      `${r.arch}: ${relative(process.cwd(), r.root)} ${(r.bytes / 1e6).toFixed(1)} MB, SBOM ${relative(process.cwd(), r.sbom)}${r.pkcs11 ? "" : ", without pkcs11js (no addon built for this architecture)"}`,
    );
  if (!values["rootfs-only"]) console.log(`built ${values.tag ?? `iam-ra-${values.image}:dev`}`);
  void dirname;
}
