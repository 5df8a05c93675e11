# A small stand-in for the NixOS module system and nixpkgs (neither is reachable here), enough
# to evaluate nix/module.nix: option defaults merged with the given config, mkIf and mkMerge
# resolved, and pkgs.formats.yaml writing its value as JSON (which is YAML) into the store.
# NOT the real module system: no types are checked, no priorities, lists are not merged.
{ userConfig }:

let
  inherit (builtins) attrNames foldl' isAttrs listToAttrs mapAttrs filter;

  recursiveUpdate = a: b:
    a // mapAttrs (n: v: if isAttrs v && isAttrs (a.${n} or null) && !(v ? outPath) then recursiveUpdate a.${n} v else v) b;

  lib = {
    mkOption = o: o // { _isOption = true; };
    mkEnableOption = what: { _isOption = true; default = false; description = "Whether to enable ${what}."; };
    mkIf = cond: content: { _type = "if"; inherit cond content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    types = {
      package = "package";
      str = "str";
      nullOr = t: "null or ${t}";
      listOf = t: "list of ${t}";
      attrsOf = t: "attribute set of ${t}";
      bool = "bool";
    };
    optionalAttrs = cond: set: if cond then set else { };
    concatStringsSep = builtins.concatStringsSep;
    mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
    filterAttrs = pred: set: listToAttrs (map (n: { name = n; value = set.${n}; }) (filter (n: pred n set.${n}) (attrNames set)));
    mapAttrs' = f: set: listToAttrs (map (n: f n set.${n}) (attrNames set));
    nameValuePair = name: value: { inherit name value; };
    any = builtins.any;
    concatMap = builtins.concatMap;
    attrNames = attrNames;
    mapAttrs = mapAttrs;
  };

  pkgs = {
    formats.yaml = { }: {
      type = "yaml value";
      generate = name: value: builtins.toFile name (builtins.toJSON value);
    };
    callPackage = _path: _args: { outPath = "/nix/store/stand-in-bluegreen"; };
  };

  defaultsOf = opts: mapAttrs (_: o: if o ? _isOption then o.default or null else defaultsOf o) opts;

  resolve = x:
    if isAttrs x && (x._type or null) == "merge" then foldl' (acc: c: recursiveUpdate acc (resolve c)) { } x.contents
    else if isAttrs x && (x._type or null) == "if" then (if x.cond then resolve x.content else { })
    else x;

  module = import ../../../nix/module.nix;
  options = (module { inherit lib pkgs; config = { }; }).options;
  bluegreen = recursiveUpdate (defaultsOf options.services.bluegreen) (userConfig.services.bluegreen or { });
  evaluated = module { inherit lib pkgs; config = { services.bluegreen = bluegreen; }; };
in
resolve evaluated.config
