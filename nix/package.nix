# The bluegreen package for Nix: the one-file bundle (the CLI and the five agents) run by
# nodejs_20, as `bin/bluegreen`. Built from this checkout with buildNpmPackage.
#
# NOT BUILT HERE: nixpkgs is not reachable where this was written, so npmDepsHash is a
# placeholder. The first `nix build` fails and prints the right hash: put it below.
{ lib, buildNpmPackage, nodejs_20, makeWrapper }:

let
  manifest = builtins.fromJSON (builtins.readFile ../package.json);
in
buildNpmPackage {
  pname = "bluegreen";
  version = manifest.version;
  src = lib.cleanSource ./..;
  nodejs = nodejs_20;
  npmDepsHash = lib.fakeHash;
  # The bundle needs no install script of any dependency (ssh2's native parts are optional).
  npmFlags = [ "--ignore-scripts" ];
  nativeBuildInputs = [ makeWrapper ];
  # tsc for every package, then esbuild's bundle packages/cli/dist/bluegreen.cjs.
  npmBuildScript = "build";
  dontNpmInstall = true;
  installPhase = ''
    runHook preInstall
    install -Dm644 packages/cli/dist/bluegreen.cjs $out/lib/bluegreen/bluegreen.cjs
    makeWrapper ${nodejs_20}/bin/node $out/bin/bluegreen \
      --add-flags $out/lib/bluegreen/bluegreen.cjs
    install -Dm644 -t $out/share/bluegreen/examples examples/emily/*.yaml
    runHook postInstall
  '';
  meta = {
    description = "Blue/green deployments behind nginx, driven by small agents over NATS";
    license = lib.licenses.mit;
    mainProgram = "bluegreen";
    platforms = lib.platforms.linux;
  };
}
