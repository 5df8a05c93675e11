# NixOS module: services.bluegreen.{coordinator,switcher,nodeAgent,monitor}, each an agent of
# the one `bluegreen` executable run as `bluegreen agent <role> --config <settings as YAML>`,
# hardened as the units in deploy/systemd are. See docs/install.md ("NixOS").
#
#   services.bluegreen.coordinator = {
#     enable = true;
#     settings = { agent_id = "coordinator-1"; nats = { servers = [ "nats://10.0.0.5:4222" ]; user = "coordinator"; }; };
#     natsPasswordFile = "/run/secrets/bluegreen-coordinator-nats";
#   };
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkEnableOption mkIf mkMerge mkOption types;
  cfg = config.services.bluegreen;
  yaml = pkgs.formats.yaml { };

  # What every unit in deploy/systemd sets.
  common = {
    Type = "exec";
    Restart = "on-failure";
    RestartSec = "5s";
    KillSignal = "SIGTERM";
    NoNewPrivileges = true;
    ProtectSystem = "strict";
    ProtectHome = true;
    PrivateTmp = true;
    PrivateDevices = true;
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    LockPersonality = true;
    RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];
    SystemCallArchitectures = "native";
    SystemCallErrorNumber = "EPERM";
  };

  # The coordinator and the monitor: no capability, nothing written, no other user's process.
  stateless = {
    User = "bluegreen";
    Group = "bluegreen";
    TimeoutStopSec = "30s";
    CapabilityBoundingSet = "";
    ProtectProc = "invisible";
    RemoveIPC = true;
    SystemCallFilter = [ "@system-service" "~@privileged" ];
    UMask = "0077";
  };

  # Per agent: its option name, the unit's own settings (deploy/systemd/bluegreen-<role>.service).
  agents = {
    coordinator = {
      role = "coordinator";
      description = "bluegreen coordinator (blue/green deployment state machine)";
      after = [ ];
      service = stateless;
    };
    monitor = {
      role = "monitor";
      description = "bluegreen monitor (SLO watch after a switch)";
      after = [ "prometheus.service" ];
      service = stateless;
    };
    nodeAgent = {
      role = "node-agent";
      description = "bluegreen node agent (deploy steps, readiness, smoke checks)";
      after = [ "docker.service" ];
      service = {
        User = "bluegreen";
        Group = "bluegreen";
        StateDirectory = "bluegreen";
        Environment = [ "HOME=/var/lib/bluegreen" ];
        KillMode = "mixed";
        TimeoutStopSec = "60s";
        CapabilityBoundingSet = "";
        SystemCallFilter = [ "@system-service" ];
        UMask = "0022";
      };
    };
    switcher = {
      role = "switcher";
      description = "bluegreen switcher (nginx active upstream)";
      after = [ "nginx.service" ];
      # root with five capabilities: `nginx -t` and `nginx -s reload` (see the unit's header)
      service = {
        User = "root";
        TimeoutStopSec = "45s";
        CapabilityBoundingSet = [ "CAP_DAC_OVERRIDE" "CAP_DAC_READ_SEARCH" "CAP_CHOWN" "CAP_FOWNER" "CAP_KILL" ];
        ReadWritePaths = [ "/etc/nginx/bluegreen" "-/var/log/nginx" "-/var/lib/nginx" ];
        SystemCallFilter = [ "@system-service" ];
        UMask = "0022";
      };
    };
  };

  credential = "nats-password";

  # The agent's YAML config: its settings, its role, and the NATS password as a credential.
  configFile = name: a:
    let
      c = cfg.${name};
      withPassword =
        if c.natsPasswordFile == null then c.settings
        else c.settings // {
          nats = (c.settings.nats or { }) // {
            pass_file = "/run/credentials/bluegreen-${a.role}.service/${credential}";
          };
        };
    in
    yaml.generate "bluegreen-${a.role}.yaml" (withPassword // { role = a.role; });

  unit = name: a:
    let c = cfg.${name}; in {
      description = a.description;
      documentation = [ "man:bluegreen(1)" ];
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" "nats-server.service" ] ++ a.after;
      path = c.path;
      serviceConfig = common // a.service // {
        ExecStart = "${cfg.package}/bin/bluegreen agent ${a.role} --config ${configFile name a}";
        LoadCredential =
          if c.natsPasswordFile == null then [ ] else [ "${credential}:${c.natsPasswordFile}" ];
      };
    };

  agentOptions = name: a: {
    enable = mkEnableOption "the bluegreen ${a.role} agent";
    settings = mkOption {
      type = yaml.type;
      default = { };
      description = ''
        The agent's config (docs/configuration.md), rendered to YAML; `role` is set for you.
        Check a file with `bluegreen config check FILE`.
      '';
    };
    natsPasswordFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = ''
        A file holding the agent's NATS password, read by systemd (LoadCredential) and given
        to the agent as `nats.pass_file`; it never enters the Nix store.
      '';
    };
    path = mkOption {
      type = types.listOf types.package;
      default = [ ];
      description = "Programs on the agent's PATH (the node agent's deploy steps, the switcher's nginx).";
    };
  };

  enabled = lib.filterAttrs (name: _: cfg.${name}.enable) agents;
  needsUser = lib.any (name: name != "switcher") (lib.attrNames enabled);
in
{
  options.services.bluegreen = {
    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      description = "The bluegreen package (bin/bluegreen).";
    };
  } // lib.mapAttrs agentOptions agents;

  config = mkMerge [
    {
      systemd.services = lib.mapAttrs' (name: a: lib.nameValuePair "bluegreen-${a.role}" (unit name a)) enabled;
    }
    (mkIf needsUser {
      users.users.bluegreen = {
        isSystemUser = true;
        group = "bluegreen";
        home = "/var/lib/bluegreen";
        description = "bluegreen agents";
      };
      users.groups.bluegreen = { };
    })
    (mkIf cfg.switcher.enable {
      systemd.tmpfiles.rules = [ "d /etc/nginx/bluegreen 0755 root root -" ];
    })
  ];
}
