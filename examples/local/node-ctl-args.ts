// The arguments node-ctl passes on to the sample app's ctl. Pure, so it is unit-tested.

export interface NodeEnv {
  readonly BLUEGREEN_NODE_HOST?: string | undefined;
  readonly BLUEGREEN_NODE_PORT?: string | undefined;
  readonly BLUEGREEN_COLOR?: string | undefined;
}

/**
 * `start --dir D` becomes `start --dir D --host H --port P --color C` from the variables the
 * node agent sets for every step, so one definition serves both colours (a step's argv can
 * only name `${version}`, `${service}` and `${color}`). Flags already given are kept; other
 * commands pass through unchanged.
 */
export function ctlArgs(args: readonly string[], env: NodeEnv): string[] {
  const out = [...args];
  if (out[0] !== "start") return out;
  const add = (flag: string, value: string | undefined) => {
    if (value !== undefined && value !== "" && !out.includes(flag)) out.push(flag, value);
  };
  add("--host", env.BLUEGREEN_NODE_HOST);
  add("--port", env.BLUEGREEN_NODE_PORT);
  add("--color", env.BLUEGREEN_COLOR);
  return out;
}
