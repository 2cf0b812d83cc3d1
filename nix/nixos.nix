# NixOS: programs.iamRolesAnywhere for one `user`: their ~/.aws/config is installed at activation
# (0600, owned by them; the profiles byte for byte what `iam-ra profile configure` writes), and
# `iam-ra serve` / `iam-ra update` run as hardened system services under that user, with the
# hardening `iam-ra service install` gives its units.
{ package }:
{ config, lib, pkgs, ... }:
let
  cfg = config.programs.iamRolesAnywhere;
  gen = import ./config.nix { inherit lib cfg; };
  home = config.users.users.${cfg.user}.home;
  group = config.users.users.${cfg.user}.group;
  awsConfig = pkgs.writeText "iam-ra-aws-config" gen.awsConfigText;
in
{
  options.programs.iamRolesAnywhere = import ./options.nix {
    inherit lib pkgs;
    package = package pkgs;
    withUser = true;
  };

  config = lib.mkIf cfg.enable {
    assertions = gen.assertions ++ [
      {
        assertion = config.users.users ? ${cfg.user};
        message = "programs.iamRolesAnywhere.user: there is no user \"${cfg.user}\".";
      }
    ];
    environment.systemPackages = [ cfg.package ];
    system.activationScripts.iamRolesAnywhere = {
      deps = [ "users" ];
      text = ''
        install -d -m 0700 -o ${lib.escapeShellArg cfg.user} -g ${lib.escapeShellArg group} ${lib.escapeShellArg "${home}/.aws"}
        install -m 0600 -o ${lib.escapeShellArg cfg.user} -g ${lib.escapeShellArg group} ${awsConfig} ${lib.escapeShellArg "${home}/.aws/config"}
      '';
    };
    systemd.services =
      lib.optionalAttrs cfg.serve.enable {
        iam-ra-serve = {
          description = "iam-ra serve: AWS credentials for local SDKs";
          wantedBy = [ "multi-user.target" ];
          after = [ "network-online.target" ];
          wants = [ "network-online.target" ];
          serviceConfig = gen.hardening // {
            Type = "exec";
            User = cfg.user;
            ExecStart = lib.escapeShellArgs (gen.serveArgs ++ [ "--token-file" "/run/iam-ra/token" ]);
            RuntimeDirectory = "iam-ra";
            RuntimeDirectoryMode = "0750";
            CapabilityBoundingSet = "";
          };
        };
      }
      // lib.listToAttrs (
        map (p: {
          name = "iam-ra-update-${p.awsProfileName}";
          value = {
            description = "iam-ra update: keep profile ${p.awsProfileName} fresh in ~/.aws/credentials";
            wantedBy = [ "multi-user.target" ];
            after = [ "network-online.target" ];
            wants = [ "network-online.target" ];
            serviceConfig = gen.hardening // {
              Type = "exec";
              User = cfg.user;
              ExecStart = lib.escapeShellArgs (gen.updateArgs "${home}/.aws/credentials" p);
              ReadWritePaths = [ "${home}/.aws" ];
              CapabilityBoundingSet = "";
            };
          };
        }) gen.updateProfiles
      );
  };
}
