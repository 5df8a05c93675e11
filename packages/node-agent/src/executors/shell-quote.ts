/**
 * Quoting for the remote POSIX shell that sshd starts for an `exec` request. Every argv
 * element becomes one single-quoted word (`'` → `'\''`), so nothing in it is ever read by
 * the shell: no expansion, no word splitting, no second command.
 */
export function quoteForShell(value: string): string {
  if (value.includes("\0")) throw new TypeError("an argument cannot contain a NUL byte");
  return `'${value.replaceAll("'", "'\\''")}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface RemoteCommand {
  /** A first command run before anything else (the pid announcement). */
  readonly prelude?: string;
  readonly workdir: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * `cd '<workdir>' && export K='v' … && exec '<argv0>' '<argv1>' … </dev/null`: the step
 * replaces the shell, so its exit code is the channel's and a signal reaches it directly; it
 * reads no input (as a local step does not).
 */
export function remoteCommandLine(cmd: RemoteCommand): string {
  if (cmd.argv.length === 0) throw new TypeError("a command needs at least the program name");
  const parts = cmd.prelude === undefined ? [] : [cmd.prelude];
  parts.push(`cd ${quoteForShell(cmd.workdir)}`);
  const assignments = Object.entries(cmd.env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new TypeError(`invalid environment variable name '${name}'`);
    return `${name}=${quoteForShell(value)}`;
  });
  if (assignments.length > 0) parts.push(`export ${assignments.join(" ")}`);
  parts.push(`exec ${cmd.argv.map(quoteForShell).join(" ")} </dev/null`);
  return parts.join(" && ");
}
