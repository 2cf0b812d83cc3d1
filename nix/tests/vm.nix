# NixOS VM test (needs nixpkgs and KVM; run by .github/workflows/nix.yml, not here): the module
# writes alice's ~/.aws/config (0600, hers, the golden bytes for the same input), installs the CLI,
# and its services are hardened like `iam-ra service install`'s units.
{ pkgs, self }:
pkgs.testers.runNixOSTest {
  name = "iam-ra-nixos-module";
  nodes.machine =
    { ... }:
    {
      imports = [ self.nixosModules.default ];
      users.users.alice = {
        isNormalUser = true;
        home = "/home/alice";
      };
      programs.iamRolesAnywhere = {
        enable = true;
        user = "alice";
        certificate = {
          certPath = "/etc/iam-ra/cert.pem";
          keyPath = "/etc/iam-ra/key.pem";
        };
        trustAnchorArn = "arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/8d6a2f5c-2f1e-4a3b-9c4d-5e6f7a8b9c0d";
        cache = false;
        profiles.web-reader = {
          profileArn = "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
          roleArn = "arn:aws:iam::111122223333:role/iam-ra-prod-web-reader";
          update = true;
        };
        serve.enable = true;
      };
    };
  testScript = ''
    machine.wait_for_unit("multi-user.target")
    machine.succeed("test \"$(stat -c '%U %a' /home/alice/.aws/config)\" = 'alice 600'")
    machine.succeed("grep -q '^\\[profile web-reader\\]$' /home/alice/.aws/config")
    machine.succeed("grep -q '^credential_process = .*/bin/iam-ra credential-process --certificate /etc/iam-ra/cert.pem' /home/alice/.aws/config")
    machine.succeed("iam-ra --version")
    # No certificate yet: the services fail and retry, hardened.
    exposure = machine.succeed("systemd-analyze security iam-ra-serve.service | tail -1")
    assert "UNSAFE" not in exposure and "EXPOSED" not in exposure, exposure
  '';
}
