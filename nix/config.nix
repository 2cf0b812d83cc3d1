# From the module options to what lib.nix's awsConfig takes, and the assertions every module makes.
{ lib, cfg }:
let
  iamRa = import ./lib.nix;
  inStore = p: p != null && lib.hasPrefix builtins.storeDir p;
  isUri = p: p != null && lib.hasPrefix "pkcs11:" (lib.toLower p);
  ordered = lib.sort (a: b: a.awsProfileName < b.awsProfileName) (lib.attrValues cfg.profiles);
  defaults = lib.filter (p: p.makeDefault) ordered;
in
rec {
  generatorInput = {
    command = "${cfg.package}/bin/iam-ra";
    certificate = {
      inherit (cfg.certificate) certPath keyPath intermediates passphraseFile;
    };
    pkcs11 = {
      inherit (cfg.pkcs11) lib pinFile keyPinFile;
    };
    inherit (cfg) trustAnchorArn region sessionDuration endpoint cache cacheDir;
    profiles = map (p: {
      name = p.awsProfileName;
      inherit (p) profileArn roleArn makeDefault sessionDuration output extraConfig;
    }) ordered;
  };

  awsConfigText = iamRa.awsConfig generatorInput;

  defaultProfile = if defaults == [ ] then null else lib.head defaults;

  assertions =
    [
      {
        assertion = lib.length defaults <= 1;
        message = "programs.iamRolesAnywhere: at most one profile may set makeDefault (now: ${lib.concatMapStringsSep ", " (p: p.awsProfileName) defaults}).";
      }
      {
        assertion = iamRa.isTrustAnchorArn cfg.trustAnchorArn;
        message = "programs.iamRolesAnywhere.trustAnchorArn: \"${cfg.trustAnchorArn}\" is not a trust anchor ARN (arn:<partition>:rolesanywhere:<region>:<account>:trust-anchor/<id>).";
      }
      {
        assertion = !(inStore cfg.certificate.keyPath) && !(inStore cfg.certificate.passphraseFile)
          && !(inStore cfg.pkcs11.pinFile) && !(inStore cfg.pkcs11.keyPinFile);
        message = "programs.iamRolesAnywhere: the private key, its passphrase and PINs must not be in the Nix store (it is world-readable); point them at a secrets manager's path (sops-nix, agenix) or a file outside the store.";
      }
      {
        assertion = lib.all (p: p == null || isUri p || lib.hasPrefix "/" p) [
          cfg.certificate.certPath
          cfg.certificate.keyPath
          cfg.certificate.intermediates
          cfg.certificate.passphraseFile
          cfg.pkcs11.pinFile
          cfg.pkcs11.keyPinFile
          cfg.cacheDir
        ];
        message = "programs.iamRolesAnywhere: certificate, key and other file paths must be absolute (or pkcs11: URIs).";
      }
      {
        assertion = cfg.serve.profile == null || cfg.profiles ? ${cfg.serve.profile};
        message = "programs.iamRolesAnywhere.serve.profile: there is no profile \"${toString cfg.serve.profile}\".";
      }
    ]
    ++ lib.concatMap (
      p: [
        {
          assertion = iamRa.isProfileArn p.profileArn;
          message = "programs.iamRolesAnywhere.profiles.${p.awsProfileName}.profileArn: \"${p.profileArn}\" is not a Roles Anywhere profile ARN.";
        }
        {
          assertion = iamRa.isRoleArn p.roleArn;
          message = "programs.iamRolesAnywhere.profiles.${p.awsProfileName}.roleArn: \"${p.roleArn}\" is not an IAM role ARN.";
        }
        {
          assertion = iamRa.isProfileName p.awsProfileName && p.awsProfileName != "default";
          message = "programs.iamRolesAnywhere.profiles.${p.awsProfileName}: not a usable AWS profile name (letters, digits and _ - . @ + % : / only; use makeDefault for [default]).";
        }
        {
          assertion = !(p.extraConfig ? credential_process || p.extraConfig ? region || p.extraConfig ? output);
          message = "programs.iamRolesAnywhere.profiles.${p.awsProfileName}.extraConfig: credential_process, region and output are set by their own options.";
        }
      ]
    ) ordered;

  # `iam-ra serve` / `iam-ra update` command lines (the same flags as the profiles' credential_process).
  credentialFlags =
    p:
    lib.cli.toGNUCommandLine { } {
      certificate = cfg.certificate.certPath;
      private-key = cfg.certificate.keyPath;
      intermediates = cfg.certificate.intermediates;
      private-key-passphrase-file = cfg.certificate.passphraseFile;
      pkcs11-lib = cfg.pkcs11.lib;
      pkcs11-pin-file = cfg.pkcs11.pinFile;
      pkcs11-key-pin-file = cfg.pkcs11.keyPinFile;
      trust-anchor-arn = cfg.trustAnchorArn;
      profile-arn = p.profileArn;
      role-arn = p.roleArn;
      region = cfg.region;
      session-duration = if p.sessionDuration != null then p.sessionDuration else cfg.sessionDuration;
      endpoint = cfg.endpoint;
    };

  servedProfile =
    if cfg.serve.profile != null then cfg.profiles.${cfg.serve.profile}
    else if defaultProfile != null then defaultProfile
    else lib.head ordered;

  serveArgs =
    [ "${cfg.package}/bin/iam-ra" "serve" ]
    ++ credentialFlags servedProfile
    ++ [ "--host" "127.0.0.1" "--port" (toString cfg.serve.port) ]
    ++ lib.optional cfg.serve.imds "--imds";

  updateArgs = credentialsFile: p: [ "${cfg.package}/bin/iam-ra" "update" "--profile" p.awsProfileName "--credentials-file" credentialsFile ] ++ credentialFlags p;

  updateProfiles = lib.filter (p: p.update) ordered;

  # The hardening `iam-ra service install` gives its units.
  hardening = {
    NoNewPrivileges = true;
    ProtectSystem = "strict";
    ProtectHome = "read-only";
    PrivateTmp = true;
    PrivateDevices = true;
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    ProtectProc = "invisible";
    ProcSubset = "pid";
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    LockPersonality = true;
    RemoveIPC = true;
    SystemCallArchitectures = "native";
    SystemCallFilter = "@system-service";
    SystemCallErrorNumber = "EPERM";
    RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" "AF_NETLINK" ];
    UMask = "0077";
    Restart = "on-failure";
    RestartSec = "30s";
  };
}
