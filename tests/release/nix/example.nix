# The config tests/release/nix.test.ts evaluates nix/module.nix with: all five agents and the
# dashboard.
{
  services.bluegreen = {
    coordinator = {
      enable = true;
      settings = {
        agent_id = "coordinator-1";
        nats = { servers = [ "nats://10.0.0.5:4222" ]; user = "coordinator"; };
      };
      natsPasswordFile = "/run/secrets/coordinator-nats";
    };
    switcher = {
      enable = true;
      settings = {
        agent_id = "switcher-nginx1";
        nats.servers = [ "nats://10.0.0.5:4222" ];
        services = [ "emily" ];
        nginx = { test_command = [ "nginx" "-t" ]; reload_command = [ "nginx" "-s" "reload" ]; };
      };
    };
    nodeAgent = {
      enable = true;
      settings = {
        agent_id = "node-agent-emily-blue";
        nats.servers = [ "nats://10.0.0.5:4222" ];
        serves = [ { service = "emily"; color = "blue"; } ];
      };
    };
    monitor = {
      enable = true;
      settings = {
        agent_id = "monitor-1";
        nats.servers = [ "nats://10.0.0.5:4222" ];
        services = [ "emily" ];
      };
    };
    notifier = {
      enable = true;
      settings = {
        agent_id = "notifier-1";
        nats = { servers = [ "nats://10.0.0.5:4222" ]; user = "notifier"; };
        sinks = [
          {
            name = "ops-hook";
            type = "webhook";
            url = "https://hooks.example.com/bluegreen";
            signing_secret.file = "/run/credentials/bluegreen-notifier.service/ops-hook.key";
          }
          {
            name = "team-chat";
            type = "slack";
            url_secret.env = "BG_SLACK_WEBHOOK_URL";
          }
        ];
        routes = [ { services = [ "*" ]; events = [ "deploy.failed" ]; sinks = [ "ops-hook" "team-chat" ]; } ];
      };
      natsPasswordFile = "/run/secrets/notifier-nats";
      credentials."ops-hook.key" = "/run/secrets/ops-hook.key";
      environmentFile = "/run/secrets/notifier.env";
    };
    dashboard = {
      enable = true;
      nats = { url = "nats://10.0.0.5:4222"; user = "dashboard"; };
      environmentFile = "/run/secrets/dashboard.env";
    };
  };
}
