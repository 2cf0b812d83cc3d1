# home-manager: programs.iamRolesAnywhere writes ~/.aws/config (the profiles, byte for byte what
# `iam-ra profile configure` writes) and runs `iam-ra serve` / `iam-ra update` as user services
# (systemd on Linux, launchd on macOS).
{ package }:
{ config, lib, pkgs, ... }:
let
  cfg = config.programs.iamRolesAnywhere;
  gen = import ./config.nix { inherit lib cfg; };
  credentialsFile = "${config.home.homeDirectory}/.aws/credentials";
in
{
  options.programs.iamRolesAnywhere = import ./options.nix {
    inherit lib pkgs;
    package = package pkgs;
    withUser = false;
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        assertions = gen.assertions;
        home.packages = [ cfg.package ];
        home.file.".aws/config".text = gen.awsConfigText;
      }
      (lib.mkIf pkgs.stdenv.isLinux {
        systemd.user.services =
          lib.optionalAttrs cfg.serve.enable {
            iam-ra-serve = {
              Unit.Description = "iam-ra serve: AWS credentials for local SDKs";
              Service = gen.hardening // {
                Type = "exec";
                ExecStart = lib.escapeShellArgs (gen.serveArgs ++ [ "--token-file" "%t/iam-ra/token" ]);
                RuntimeDirectory = "iam-ra";
              };
              Install.WantedBy = [ "default.target" ];
            };
          }
          // lib.listToAttrs (
            map (p: {
              name = "iam-ra-update-${p.awsProfileName}";
              value = {
                Unit.Description = "iam-ra update: keep profile ${p.awsProfileName} fresh in ~/.aws/credentials";
                Service = gen.hardening // {
                  Type = "exec";
                  ExecStart = lib.escapeShellArgs (gen.updateArgs credentialsFile p);
                  ProtectHome = false;
                  ReadWritePaths = [ "${config.home.homeDirectory}/.aws" ];
                };
                Install.WantedBy = [ "default.target" ];
              };
            }) gen.updateProfiles
          );
      })
      (lib.mkIf pkgs.stdenv.isDarwin {
        launchd.agents =
          lib.optionalAttrs cfg.serve.enable {
            iam-ra-serve = {
              enable = true;
              config = {
                ProgramArguments = gen.serveArgs ++ [ "--token-file" "${config.home.homeDirectory}/.cache/iam-ra/token" ];
                KeepAlive = true;
                RunAtLoad = true;
                ProcessType = "Background";
              };
            };
          }
          // lib.listToAttrs (
            map (p: {
              name = "iam-ra-update-${p.awsProfileName}";
              value = {
                enable = true;
                config = {
                  ProgramArguments = gen.updateArgs credentialsFile p;
                  KeepAlive = true;
                  RunAtLoad = true;
                  ProcessType = "Background";
                };
              };
            }) gen.updateProfiles
          );
      })
    ]
  );
}
