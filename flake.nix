{
  description = "iam-ra: AWS credentials from an X.509 certificate through IAM Roles Anywhere — the CLI and the home-manager, NixOS and nix-darwin modules";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      package = pkgs: pkgs.callPackage ./nix/package.nix { };
      iamRa = import ./nix/lib.nix;
      goldens = builtins.filter (f: lib.hasSuffix ".json" f) (builtins.attrNames (builtins.readDir ./nix/tests/golden));
    in
    {
      packages = forAllSystems (pkgs: rec {
        iam-ra = package pkgs;
        default = iam-ra;
      });

      # The pure generator (~/.aws/config text) and the ARN checks, for use outside the modules.
      lib = iamRa;

      homeModules.default = import ./nix/home-manager.nix { inherit package; };
      homeManagerModules.default = self.homeModules.default;
      nixosModules.default = import ./nix/nixos.nix { inherit package; };
      darwinModules.default = import ./nix/darwin.nix { inherit package; };

      checks = forAllSystems (
        pkgs:
        {
          # The generator gives the golden files the TypeScript tests also check.
          golden = pkgs.runCommand "iam-ra-golden" { } (
            lib.concatMapStrings (
              f:
              let
                name = lib.removeSuffix ".json" f;
                text = iamRa.awsConfig (lib.importJSON ./nix/tests/golden/${f});
              in
              ''
                diff -u ${./nix/tests/golden + "/${name}.ini"} ${pkgs.writeText "${name}.ini" text}
              ''
            ) goldens
            + "touch $out\n"
          );
          package = self.packages.${pkgs.system}.iam-ra;
        }
        // lib.optionalAttrs pkgs.stdenv.isLinux {
          nixos-module = import ./nix/tests/vm.nix { inherit pkgs self; };
        }
      );
    };
}
