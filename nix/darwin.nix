# nix-darwin: programs.iamRolesAnywhere for one `user`: ~/.aws/config installed at activation (0600),
# `iam-ra serve` / `iam-ra update` as launchd daemons running as that user.
{ package }:
{ config, lib, pkgs, ... }:
let
  cfg = config.programs.iamRolesAnywhere;
  gen = import ./config.nix { inherit lib cfg; };
  home = "/Users/${cfg.user}";
  awsConfig = pkgs.writeText "iam-ra-aws-config" gen.awsConfigText;
  daemon = args: {
    serviceConfig = {
      ProgramArguments = args;
      UserName = cfg.user;
      KeepAlive = true;
      RunAtLoad = true;
      ProcessType = "Background";
      Umask = 63; # 0077
    };
  };
in
{
  options.programs.iamRolesAnywhere = import ./options.nix {
    inherit lib pkgs;
    package = package pkgs;
    withUser = true;
  };

  config = lib.mkIf cfg.enable {
    assertions = gen.assertions;
    environment.systemPackages = [ cfg.package ];
    system.activationScripts.postActivation.text = ''
      install -d -m 0700 -o ${lib.escapeShellArg cfg.user} ${lib.escapeShellArg "${home}/.aws"}
      install -m 0600 -o ${lib.escapeShellArg cfg.user} ${awsConfig} ${lib.escapeShellArg "${home}/.aws/config"}
    '';
    launchd.daemons =
      lib.optionalAttrs cfg.serve.enable {
        iam-ra-serve = daemon (gen.serveArgs ++ [ "--token-file" "${home}/.cache/iam-ra/token" ]);
      }
      // lib.listToAttrs (
        map (p: {
          name = "iam-ra-update-${p.awsProfileName}";
          value = daemon (gen.updateArgs "${home}/.aws/credentials" p);
        }) gen.updateProfiles
      );
  };
}
