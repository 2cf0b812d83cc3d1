# The options of programs.iamRolesAnywhere, shared by the home-manager, NixOS and nix-darwin modules
# (the system modules add `user`). Names follow the Python iam-ra's module; the rest is new.
{ lib, pkgs, package, withUser }:
let
  inherit (lib) mkOption mkEnableOption types;
  nullOr = types.nullOr;
  profile = types.submodule (
    { name, ... }:
    {
      options = {
        profileArn = mkOption {
          type = types.str;
          description = "ARN of the Roles Anywhere profile.";
        };
        roleArn = mkOption {
          type = types.str;
          description = "ARN of the IAM role to assume.";
        };
        awsProfileName = mkOption {
          type = types.str;
          default = name;
          description = "Name of the AWS config profile (default: the attribute name).";
        };
        makeDefault = mkOption {
          type = types.bool;
          default = false;
          description = "Also write this profile as [default] (at most one profile).";
        };
        sessionDuration = mkOption {
          type = nullOr (types.ints.between 900 43200);
          default = null;
          description = "Session duration in seconds for this profile (overrides the shared one).";
        };
        output = mkOption {
          type = nullOr (types.enum [ "json" "yaml" "yaml-stream" "text" "table" ]);
          default = null;
          description = "The AWS CLI's output format for this profile.";
        };
        extraConfig = mkOption {
          type = types.attrsOf types.str;
          default = { };
          example = { cli_pager = "less"; };
          description = "More keys for this profile's section (not credential_process, region or output).";
        };
        update = mkOption {
          type = types.bool;
          default = false;
          description = "Run `iam-ra update` for this profile as a service: static keys kept fresh in the credentials file, for tools without credential_process.";
        };
      };
    }
  );
in
{
  enable = mkEnableOption "AWS credentials from an X.509 certificate through IAM Roles Anywhere (iam-ra)";
  package = mkOption {
    type = types.package;
    default = package;
    description = "The iam-ra CLI.";
  };
  certificate = {
    certPath = mkOption {
      type = types.str;
      description = "The certificate (PEM or DER), or a pkcs11: URI. Any secrets manager's path works.";
    };
    keyPath = mkOption {
      type = types.str;
      description = "The private key file (never in the Nix store), or a pkcs11: URI for a key in a token or TPM.";
    };
    intermediates = mkOption {
      type = nullOr types.str;
      default = null;
      description = "Intermediate CA certificates (PEM bundle) sent with the certificate.";
    };
    passphraseFile = mkOption {
      type = nullOr types.str;
      default = null;
      description = "File holding the private key's passphrase.";
    };
  };
  pkcs11 = {
    lib = mkOption {
      type = nullOr types.str;
      default = null;
      description = "PKCS#11 module for pkcs11: URIs (default: p11-kit's proxy).";
    };
    pinFile = mkOption {
      type = nullOr types.str;
      default = null;
      description = "File holding the token's user PIN.";
    };
    keyPinFile = mkOption {
      type = nullOr types.str;
      default = null;
      description = "File holding a per-key PIN, for keys that ask on every signature.";
    };
  };
  trustAnchorArn = mkOption {
    type = types.str;
    description = "ARN of the trust anchor.";
  };
  region = mkOption {
    type = nullOr types.str;
    default = null;
    description = "AWS region (default: the trust anchor's).";
  };
  sessionDuration = mkOption {
    type = nullOr (types.ints.between 900 43200);
    default = null;
    description = "Session duration in seconds (default: the profile's, usually 3600).";
  };
  endpoint = mkOption {
    type = nullOr types.str;
    default = null;
    description = "Roles Anywhere endpoint URL (default: the region's).";
  };
  cache = mkOption {
    type = types.bool;
    default = true;
    description = "Reuse credentials from a 0600 cache file until 15 minutes before expiry.";
  };
  cacheDir = mkOption {
    type = nullOr types.str;
    default = null;
    description = "Cache directory (default $XDG_CACHE_HOME/iam-ra).";
  };
  profiles = mkOption {
    type = types.attrsOf profile;
    default = { };
    description = "AWS config profiles, one per role.";
  };
  serve = {
    enable = mkEnableOption "`iam-ra serve`: container credentials (and optionally IMDSv2) on loopback for SDKs and tools";
    profile = mkOption {
      type = nullOr types.str;
      default = null;
      description = "The profile (attribute name) whose role is served (default: the makeDefault profile).";
    };
    port = mkOption {
      type = types.port;
      default = 9911;
      description = "Loopback port.";
    };
    imds = mkOption {
      type = types.bool;
      default = false;
      description = "Also answer IMDSv2 on loopback.";
    };
  };
}
// lib.optionalAttrs withUser {
  user = mkOption {
    type = types.str;
    description = "The user whose ~/.aws/config is written and who runs the services.";
  };
}
