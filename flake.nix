{
  description = "bluegreen: blue/green deployments behind nginx, driven by small agents over NATS";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAll (pkgs: rec {
        bluegreen = pkgs.callPackage ./nix/package.nix { };
        default = bluegreen;
      });
      overlays.default = final: _prev: { bluegreen = final.callPackage ./nix/package.nix { }; };
      # services.bluegreen.{coordinator,switcher,nodeAgent,monitor,notifier,dashboard}: see docs/install.md.
      nixosModules.default = { pkgs, ... }: {
        imports = [ ./nix/module.nix ];
        services.bluegreen.package = nixpkgs.lib.mkDefault self.packages.${pkgs.system}.bluegreen;
      };
    };
}
