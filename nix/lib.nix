# Pure functions shared by the home-manager, NixOS and nix-darwin modules (no nixpkgs needed), so
# what they write can be checked with plain `nix-instantiate --eval` against the same golden files the
# TypeScript tests of `iam-ra profile configure` check (nix/tests/golden): the two cannot drift.
let
  inherit (builtins)
    concatStringsSep
    elemAt
    filter
    isBool
    isInt
    map
    match
    replaceStrings
    split
    toString
    ;

  # Quotes one word as `iam-ra profile configure` does (core's quoteShellArg): plain words stay bare,
  # anything else is single-quoted with ' written as '\''. `sh -c` and Python's shlex read both back.
  quoteShellArg =
    arg: if match "[A-Za-z0-9_@%+=:,./-]+" arg != null then arg else "'" + replaceStrings [ "'" ] [ "'\\''" ] arg + "'";

  joinShellArgs = args: concatStringsSep " " (map quoteShellArg args);

  # The region of an ARN (arn:partition:service:region:account:resource).
  arnRegion =
    arn:
    let
      parts = filter (p: !(builtins.isList p)) (split ":" arn);
    in
    if builtins.length parts > 3 then elemAt parts 3 else null;

  # `--name value` pairs in the order of iam-ra's credential flags; null and false are left out.
  flagArgs =
    pairs:
    builtins.concatLists (
      map (
        pair:
        let
          value = elemAt pair 1;
        in
        if value == null || value == false then
          [ ]
        else if value == true then
          [ "--${elemAt pair 0}" ]
        else
          [
            "--${elemAt pair 0}"
            (if isInt value then toString value else value)
          ]
      ) pairs
    );

  # The credential_process words of one profile.
  credentialProcessArgs =
    cfg: profile:
    [ cfg.command "credential-process" ]
    ++ flagArgs [
      [ "certificate" cfg.certificate.certPath ]
      [ "private-key" cfg.certificate.keyPath ]
      [ "intermediates" cfg.certificate.intermediates ]
      [ "private-key-passphrase-file" cfg.certificate.passphraseFile ]
      [ "pkcs11-lib" cfg.pkcs11.lib ]
      [ "pkcs11-pin-file" cfg.pkcs11.pinFile ]
      [ "pkcs11-key-pin-file" cfg.pkcs11.keyPinFile ]
      [ "trust-anchor-arn" cfg.trustAnchorArn ]
      [ "profile-arn" profile.profileArn ]
      [ "role-arn" profile.roleArn ]
      [ "region" cfg.region ]
      [ "session-duration" (if profile.sessionDuration != null then profile.sessionDuration else cfg.sessionDuration) ]
      [ "endpoint" cfg.endpoint ]
      [ "cache" cfg.cache ]
      [ "cache-dir" cfg.cacheDir ]
    ];

  section =
    name: keys:
    "[${if name == "default" then "default" else "profile ${name}"}]\n"
    + concatStringsSep "" (map (k: "${elemAt k 0} = ${elemAt k 1}\n") keys);

  profileKeys =
    cfg: profile:
    let
      region = if cfg.region != null then cfg.region else arnRegion cfg.trustAnchorArn;
    in
    [ [ "credential_process" (joinShellArgs (credentialProcessArgs cfg profile)) ] ]
    ++ (if region != null then [ [ "region" region ] ] else [ ])
    ++ (if profile.output != null then [ [ "output" profile.output ] ] else [ ])
    ++ map (name: [ name (toString profile.extraConfig.${name}) ]) (builtins.attrNames profile.extraConfig);

  # The ~/.aws/config text for `cfg` (profiles is an ordered list): byte for byte what running
  # `iam-ra profile configure NAME=ROLE --profile-arn … [--default] [--output …] [--set k=v…]` once per
  # profile, in that order, writes into an empty file. A makeDefault profile is followed by [default].
  awsConfig =
    cfg:
    concatStringsSep "\n" (
      builtins.concatLists (
        map (
          profile:
          let
            keys = profileKeys cfg profile;
          in
          [ (section profile.name keys) ] ++ (if profile.makeDefault then [ (section "default" keys) ] else [ ])
        ) cfg.profiles
      )
    );

  # ARNs in every partition (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc).
  partition = "aws(-cn|-us-gov|-iso(-[a-z])?|-eusc)?";
  isTrustAnchorArn =
    arn: match "arn:${partition}:rolesanywhere:[a-z0-9-]+:[0-9]{12}:trust-anchor/[0-9a-f-]{36}" arn != null;
  isProfileArn =
    arn: match "arn:${partition}:rolesanywhere:[a-z0-9-]+:[0-9]{12}:profile/[0-9a-f-]{36}" arn != null;
  isRoleArn = arn: match "arn:${partition}:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+" arn != null;
  isProfileName = name: match "[A-Za-z0-9_@+.%:/-]+" name != null && name != "__proto__";
in
{
  inherit
    quoteShellArg
    joinShellArgs
    awsConfig
    isTrustAnchorArn
    isProfileArn
    isRoleArn
    isProfileName
    ;
}
