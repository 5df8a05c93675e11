import { type GroupSighting, parseStat } from "./process-group.ts";

/**
 * The remote step announces itself on stderr before it starts (`bluegreen-step-pid 4242
 * <boot id> <its /proc stat line>`), so a timeout can kill its process group with
 * `kill -s TERM -- -4242` over a second channel (sshd refuses `signal` requests for sessions
 * that run without privilege separation, root logins, so the signal request alone is not
 * enough), and so the agent can note which process on which boot of the node the step is: a
 * restarted agent ends a group a crash left there only if it is still that process.
 */
export const PID_MARKER = "bluegreen-step-pid";

/**
 * The shell snippet that prints the marker: `$$` is the pid the step keeps after `exec` (sshd
 * starts the command in a session of its own, so it also leads the step's process group); the
 * boot id and the stat line are read on the node (empty where there is no /proc). No user data.
 */
export const PID_ANNOUNCE = `echo "${PID_MARKER} $$ $(cat /proc/sys/kernel/random/boot_id 2>/dev/null) $(cat /proc/$$/stat 2>/dev/null)" >&2`;

const MARKER_LINE = new RegExp(`^${PID_MARKER} (\\d+)(?: (\\S*) ?(.*))?$`);
/** Stop looking for the marker after this much stderr (a login script that talks a lot). */
const SEARCH_LIMIT = 16 * 1024;

/**
 * Filters stderr: the marker line is taken out, everything else passes through unchanged.
 * Lines before the marker (a noisy login shell) pass through too, and so do words a login
 * script left on the marker's line without a newline (as a line of their own). A marker
 * whose pid is not a safe integer of at least 2 is taken out but not believed (`refused`
 * says why): the step then runs without a note and without the group kill.
 */
export class PidMarkerFilter {
  private pending = "";
  private searched = 0;
  private done = false;
  pid: number | undefined;
  /** The node's boot id, as announced ("" when it has none). */
  bootId = "";
  /** The step's start time on the node, as announced ("" when unknown). */
  startTime = "";
  /** Why an announced pid was not taken (0, 1, or not a safe integer: no group to signal). */
  refused: string | undefined;

  /** Returns what belongs to the step's output. */
  feed(chunk: Buffer): Buffer {
    if (this.done) return chunk;
    this.pending += chunk.toString("latin1");
    this.searched += chunk.length;
    let out = "";
    for (;;) {
      const newline = this.pending.indexOf("\n");
      if (newline === -1) break;
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      // A login script that printed without a final newline glues its words to the marker.
      const at = line.indexOf(`${PID_MARKER} `);
      const match = at === -1 ? null : MARKER_LINE.exec(line.slice(at).replace(/\r$/, ""));
      if (match) {
        if (at > 0) out += `${line.slice(0, at)}\n`;
        const pid = Number(match[1]);
        if (Number.isSafeInteger(pid) && pid >= 2) {
          this.pid = pid;
          this.bootId = match[2] ?? "";
          this.startTime = parseStat(match[3] ?? "")?.startTime ?? "";
        } else {
          this.refused = `the node announced pid ${match[1]?.slice(0, 30)}, not a process group that can be signalled`;
        }
        this.done = true;
        out += this.pending;
        this.pending = "";
        return Buffer.from(out, "latin1");
      }
      out += `${line}\n`;
    }
    if (this.searched > SEARCH_LIMIT) {
      this.done = true;
      out += this.pending;
      this.pending = "";
    }
    return Buffer.from(out, "latin1");
  }

  /** What is still held back (a partial line) once the stream ends. */
  flush(): Buffer {
    const rest = this.pending;
    this.pending = "";
    this.done = true;
    return Buffer.from(rest, "latin1");
  }
}

/** The command that signals a process group on the node (run by the login shell). */
export function killGroupCommand(pid: number, signal: "TERM" | "KILL"): string {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new RangeError(`refusing to signal pid ${pid}`);
  return `kill -s ${signal} -- -${pid} 2>/dev/null; true`;
}

/** What starts each line of the probe's answer: anything else (a login script) is not read. */
const PROBE_PREFIX = "bgprobe:";

/**
 * The script that says what the node holds now of a step's group, run as
 * `/bin/sh -c <script> probe <pid>` (the pid an argument, never part of the script), one
 * prefixed line each: the boot id, the leader's stat line (empty when it is gone), and `alive`
 * when any process of the group that is not a zombie still runs (`none` otherwise). An empty
 * line first: what a login script printed without a final newline stays on a line of its own.
 */
const PROBE_SCRIPT = [
  "p=$1",
  "echo",
  `printf '${PROBE_PREFIX}boot %s\\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"`,
  `printf '${PROBE_PREFIX}stat %s\\n' "$(cat "/proc/$p/stat" 2>/dev/null)"`,
  "a=none",
  'for f in /proc/[0-9]*/stat; do read -r s < "$f" || continue; s=${s##*) }; set -f; set -- $s; set +f; if [ "$3" = "$p" ] && [ "$1" != Z ]; then a=alive; break; fi; done 2>/dev/null',
  `printf '${PROBE_PREFIX}group %s\\n' "$a"`,
].join("; ");

/** The argv (for the node's shell, quoted by the caller) that probes a group. */
export function probeGroupArgv(pid: number): string[] {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new RangeError(`refusing to probe pid ${pid}`);
  return ["/bin/sh", "-c", PROBE_SCRIPT, "probe", String(pid)];
}

/**
 * Reads the probe's output (only its prefixed lines: a login script may print anything around
 * them); undefined when it is not what the probe prints.
 */
export function parseProbe(stdout: string): GroupSighting | undefined {
  const said = new Map<string, string>();
  for (const line of stdout.replace(/\r/g, "").split("\n")) {
    if (!line.startsWith(PROBE_PREFIX)) continue;
    const rest = line.slice(PROBE_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space !== -1) said.set(rest.slice(0, space), rest.slice(space + 1));
  }
  const bootId = said.get("boot");
  const stat = said.get("stat");
  const verdict = said.get("group");
  if (bootId === undefined || stat === undefined) return undefined;
  if (verdict !== "alive" && verdict !== "none") return undefined;
  const leader = parseStat(stat);
  return {
    bootId: bootId.trim(),
    leader: leader === undefined ? undefined : { state: leader.state, startTime: leader.startTime },
    groupAlive: verdict === "alive",
  };
}
