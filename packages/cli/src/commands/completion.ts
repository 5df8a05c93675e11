import { GLOBAL_OPTIONS, positional, usageError } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";

/** A command's name and its flags (its own and the global ones), for the completion scripts. */
export interface CompletionSpec {
  name: string;
  summary: string;
  flags: string[];
}

/** The flags of an option spec: `--wait`, `-f`, … */
export function flagsOf(spec: CliCommand["options"]): string[] {
  return Object.entries({ ...spec, ...GLOBAL_OPTIONS }).flatMap(([long, o]) => [
    `--${long}`,
    ...(o.short === undefined ? [] : [`-${o.short}`]),
  ]);
}

function bash(specs: readonly CompletionSpec[]): string {
  const cases = specs.map((s) => `    ${s.name}) opts="${s.flags.join(" ")}" ;;`).join("\n");
  return `# bluegreen completion for bash: source <(bluegreen completion bash)
_bluegreen() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${specs.map((s) => s.name).join(" ")} help" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -F _bluegreen bluegreen
`;
}

const quote = (s: string) => s.replace(/'/g, "'\\''").replace(/:/g, "\\:");

function zsh(specs: readonly CompletionSpec[]): string {
  const commands = specs.map((s) => `    '${s.name}:${quote(s.summary)}'`).join("\n");
  const cases = specs
    .map(
      (s) =>
        `    ${s.name}) _arguments '*:file:_files' ${s.flags.map((f) => `'${f}'`).join(" ")} ;;`,
    )
    .join("\n");
  return `#compdef bluegreen
# bluegreen completion for zsh: bluegreen completion zsh > "\${fpath[1]}/_bluegreen"
_bluegreen() {
  local -a commands
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _bluegreen bluegreen
`;
}

function fish(specs: readonly CompletionSpec[]): string {
  const lines = ["# bluegreen completion for fish: bluegreen completion fish | source"];
  lines.push("complete -c bluegreen -f");
  for (const s of specs) {
    lines.push(
      `complete -c bluegreen -n "__fish_use_subcommand" -a ${s.name} -d '${s.summary.replace(/'/g, "\\'")}'`,
    );
    for (const f of s.flags) {
      const flagArg = f.startsWith("--") ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`;
      lines.push(`complete -c bluegreen -n "__fish_seen_subcommand_from ${s.name}" ${flagArg}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export const SHELLS = { bash, zsh, fish } as const;

/** `completion` needs the command list, which includes itself: cli.ts hands it over. */
export function completionCommand(commands: () => readonly CliCommand[]): CliCommand {
  return {
    name: "completion",
    summary: "print a shell completion script (bash, zsh or fish)",
    usage: `usage: bluegreen completion <bash|zsh|fish>

Prints a completion script for the shell: the commands, and each command's flags.

examples:
  source <(bluegreen completion bash)                  # in ~/.bashrc
  bluegreen completion zsh > "\${fpath[1]}/_bluegreen"
  bluegreen completion fish > ~/.config/fish/completions/bluegreen.fish`,
    options: {},
    async run({ positionals, io }) {
      const shell = positional(positionals, 0, "bash|zsh|fish");
      if (!Object.hasOwn(SHELLS, shell))
        throw usageError(`unknown shell '${shell}' (bash, zsh or fish)`);
      const specs = commands().map((c) => ({
        name: c.name,
        summary: c.summary,
        flags: flagsOf(c.options),
      }));
      io.out(SHELLS[shell as keyof typeof SHELLS](specs).trimEnd());
      return ExitCode.ok;
    },
  };
}
