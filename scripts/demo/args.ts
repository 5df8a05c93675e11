// `npm run demo -- [--keep] [--prometheus]`: the demo's command line. Pure, so it is tested.

export interface DemoArgs {
  /** Leave everything running at the end (until Ctrl-C) and print how to explore it. */
  readonly keep: boolean;
  /** Watch through Prometheus instead of scraping the apps directly. */
  readonly prometheus: boolean;
}

export type ParsedArgs =
  | { readonly kind: "run"; readonly args: DemoArgs }
  | { readonly kind: "help" }
  | { readonly kind: "usage-error"; readonly message: string };

export const DEMO_USAGE = `usage: npm run demo -- [--keep] [--prometheus]

Starts nats-server, nginx, two sample-app instances, the switcher, two node agents, the
monitor and the coordinator on 127.0.0.1 (free ports, a temp dir), then plays two stories:
  1. deploy v1.1: green deployed, smoke checks, switched, watched, succeeded
  2. deploy v1.2: blue switched in, errors injected, SLO breach, rolled back to green
with the event stream printed as \`bluegreen tail --follow\` prints it.

options:
  --keep         leave it all running at the end and print the bluegreen commands to
                 explore it (Ctrl-C, or the printed kill line, stops everything)
  --prometheus   start Prometheus and watch the SLOs through it (default: direct scrape)
  -h, --help     this text

Exits 0 when both stories ended as expected, 1 otherwise (the reason is printed).`;

export function parseDemoArgs(argv: readonly string[]): ParsedArgs {
  let keep = false;
  let prometheus = false;
  for (const arg of argv) {
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    else if (arg === "--keep") keep = true;
    else if (arg === "--prometheus") prometheus = true;
    else return { kind: "usage-error", message: `unknown argument '${arg}'` };
  }
  return { kind: "run", args: { keep, prometheus } };
}
