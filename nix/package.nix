# The iam-ra CLI built from this repository: the workspace installed offline from pnpm's store
# (pnpmDeps, a fixed-output derivation), the CLI bundled, then `pnpm deploy --prod` for its one run-time
# dependency (@oclif/core), wrapped with Node 22.
{
  lib,
  stdenv,
  nodejs_22,
  pnpm_10,
  makeWrapper,
}:
let
  root = ../.;
in
stdenv.mkDerivation (finalAttrs: {
  pname = "iam-ra";
  version = (lib.importJSON ../apps/cli/package.json).version;
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      ../package.json
      ../pnpm-lock.yaml
      ../pnpm-workspace.yaml
      ../tsconfig.base.json
      ../LICENSE
      ../tools
      ../packages
      ../apps
    ];
  };
  nativeBuildInputs = [
    nodejs_22
    pnpm_10.configHook
    makeWrapper
  ];
  pnpmDeps = pnpm_10.fetchDeps {
    inherit (finalAttrs) pname version src;
    fetcherVersion = 2;
    # Refreshed by .github/workflows/nix.yml's "update the pnpm hash" step when pnpm-lock.yaml changes.
    hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  };
  buildPhase = ''
    runHook preBuild
    pnpm --filter @iam-ra/cli run build
    runHook postBuild
  '';
  installPhase = ''
    runHook preInstall
    cp LICENSE apps/cli/LICENSE
    pnpm --offline --filter @iam-ra/cli deploy --prod --ignore-scripts "$out/lib/iam-ra"
    makeWrapper ${lib.getExe nodejs_22} "$out/bin/iam-ra" --add-flags "$out/lib/iam-ra/bin/run.js"
    runHook postInstall
  '';
  meta = {
    description = "AWS credentials from an X.509 certificate through IAM Roles Anywhere (no helper binary)";
    homepage = "https://github.com/iam-ra/iam-ra";
    license = lib.licenses.asl20;
    mainProgram = "iam-ra";
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
  };
})
