# NixOS module: services.bluegreen.{coordinator,switcher,nodeAgent,monitor,notifier}, each an
# agent of the one `bluegreen` executable run as `bluegreen agent <role> --config <settings as
# YAML>`, and services.bluegreen.dashboard (`bluegreen dashboard --shared`, the team screen),
# hardened as the units in deploy/systemd are. See docs/install.md ("NixOS").
#
#   services.bluegreen.coordinator = {
#     enable = true;
#     settings = { agent_id = "coordinator-1"; nats = { servers = [ "nats://10.0.0.5:4222" ]; user = "coordinator"; }; };
#     natsPasswordFile = "/run/secrets/bluegreen-coordinator-nats";
#   };
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkEnableOption mkIf mkMerge mkOption optionalAttrs types;
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

  # What every agent's unit sets: one V8 worker thread for an idle agent (docs/install.md,
  # "Footprint").
  nodeOptions = "NODE_OPTIONS=--v8-pool-size=1";

  # The coordinator, the monitor, the notifier and the dashboard: no capability, nothing written, no other user's process.
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
    notifier = {
      role = "notifier";
      description = "bluegreen notifier (webhooks, chats and e-mail from the event stream)";
      after = [ ];
      service = stateless;
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
        Environment = (a.service.Environment or [ ]) ++ [ nodeOptions ];
        LoadCredential =
          (if c.natsPasswordFile == null then [ ] else [ "${credential}:${c.natsPasswordFile}" ])
          ++ credentialsOf c;
      } // optionalAttrs (c.environmentFile != null) { EnvironmentFile = c.environmentFile; };
    };

  # `credentials`: NAME = path, each loaded by systemd and readable by the process only.
  credentialsOf = c: lib.mapAttrsToList (n: path: "${n}:${path}") c.credentials;

  secretOptions = unitName: {
    credentials = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = { "ops-hook.key" = "/run/secrets/ops-hook.key"; };
      description = ''
        Secret files handed over by systemd (LoadCredential), NAME = path: the process reads
        each at /run/credentials/${unitName}.service/NAME, so a config names that path (the
        notifier's `signing_secret = { file = ...; }`, `password = { file = ...; }`). The files
        never enter the Nix store.
      '';
    };
    environmentFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = ''
        An environment file (EnvironmentFile=, outside the store) for the secrets a config takes
        from the environment (`{ env = "NAME"; }`).
      '';
    };
  };

  agentOptions = name: a: secretOptions "bluegreen-${a.role}" // {
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

  # The dashboard: `bluegreen dashboard --shared` behind a reverse proxy that authenticates people
  # (deploy/systemd/bluegreen-dashboard.service, docs/dashboard.md); NATS settings from the
  # environment, as the CLI reads them (NATS_URL, NATS_USER, NATS_PASSWORD, NATS_CREDS).
  d = cfg.dashboard;
  dashboardArgs = lib.concatStringsSep " " (
    [ "--shared" "--listen" d.listen ]
    ++ (if d.passwordFile != null then [ "--password-file" "/run/credentials/bluegreen-dashboard.service/dashboard-passwords" ]
        else [ "--auth-header" d.authHeader ])
    ++ (if d.actions then [ "--actions" ] else [ ])
  );
  dashboardUnit = {
    description = "bluegreen dashboard (shared, read-only unless configured)";
    documentation = [ "man:bluegreen(1)" ];
    wantedBy = [ "multi-user.target" ];
    wants = [ "network-online.target" ];
    after = [ "network-online.target" "nats-server.service" ];
    serviceConfig = common // stateless // {
      TimeoutStopSec = "15s";
      ExecStart = "${cfg.package}/bin/bluegreen dashboard ${dashboardArgs}";
      Environment =
        [ "NATS_URL=${d.nats.url}" ]
        ++ (if d.nats.user == null then [ ] else [ "NATS_USER=${d.nats.user}" ])
        ++ (if d.nats.credsFile == null then [ ] else [ "NATS_CREDS=/run/credentials/bluegreen-dashboard.service/nats-creds" ]);
      LoadCredential =
        (if d.nats.credsFile == null then [ ] else [ "nats-creds:${d.nats.credsFile}" ])
        ++ (if d.passwordFile == null then [ ] else [ "dashboard-passwords:${d.passwordFile}" ])
        ++ credentialsOf d;
    } // optionalAttrs (d.environmentFile != null) { EnvironmentFile = d.environmentFile; };
  };

  str = default: description: mkOption { type = types.str; inherit default description; };
  nullOrStr = description: mkOption { type = types.nullOr types.str; default = null; inherit description; };

  dashboardOptions = secretOptions "bluegreen-dashboard" // {
    enable = mkEnableOption "the shared bluegreen dashboard (the fleet and each deployment, live)";
    listen = str "127.0.0.1:3100" "host:port it listens on; keep it on loopback behind the reverse proxy.";
    authHeader = str "X-Forwarded-User" "The header the reverse proxy sets to the authenticated person (--auth-header).";
    passwordFile = nullOrStr ''
      Instead of authHeader: the dashboard's own logins, lines `user:scrypt$...` (made with
      `bluegreen dashboard --hash-password`), loaded as a credential (--password-file).
    '';
    actions = mkOption {
      type = types.bool;
      default = false;
      description = "Allow promote/abort/rollback from the page (--actions); read-only otherwise.";
    };
    nats = {
      url = str "nats://127.0.0.1:4222" "NATS_URL.";
      user = nullOrStr "NATS_USER; its password as NATS_PASSWORD in environmentFile.";
      credsFile = nullOrStr "A NATS .creds file, loaded as a credential (NATS_CREDS).";
    };
  };

  enabled = lib.filterAttrs (name: _: cfg.${name}.enable) agents;

  # The credential names the module loads for itself (when their file is set): a user's
  # credential of the same name would make two LoadCredential= entries for one name (one of the
  # two files silently lost).
  ownCredentials = {
    dashboard =
      (if d.nats.credsFile == null then [ ] else [ "nats-creds" ])
      ++ (if d.passwordFile == null then [ ] else [ "dashboard-passwords" ]);
  } // lib.mapAttrs (name: _: if cfg.${name}.natsPasswordFile == null then [ ] else [ credential ]) agents;
  credentialClashes = lib.concatMap
    (name:
      let c = if name == "dashboard" then d else cfg.${name}; in
      map (own: {
        assertion = !(c.credentials ? ${own});
        message = "services.bluegreen.${name}.credentials.\"${own}\": the module loads a credential of that name itself; give yours another name.";
      }) ownCredentials.${name})
    (lib.attrNames enabled ++ (if d.enable then [ "dashboard" ] else [ ]));
  needsUser = d.enable || lib.any (name: name != "switcher") (lib.attrNames enabled);
in
{
  options.services.bluegreen = {
    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      description = "The bluegreen package (bin/bluegreen).";
    };
    dashboard = dashboardOptions;
  } // lib.mapAttrs agentOptions agents;

  config = mkMerge [
    {
      assertions = credentialClashes;
      systemd.services = lib.mapAttrs' (name: a: lib.nameValuePair "bluegreen-${a.role}" (unit name a)) enabled;
    }
    (mkIf d.enable {
      systemd.services.bluegreen-dashboard = dashboardUnit;
    })
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
