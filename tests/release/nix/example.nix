# The config tests/release/nix.test.ts evaluates nix/module.nix with: all four agents.
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
  };
}
