/**
 * The remote step announces its pid on stderr before it starts (`bluegreen-step-pid 4242`), so
 * a timeout can kill its process group with `kill -s TERM -- -4242` over a second channel:
 * sshd refuses `signal` requests for sessions that run without privilege separation (root
 * logins), so the signal request alone is not enough.
 */
export const PID_MARKER = "bluegreen-step-pid";

/** The shell snippet that prints the marker; `$$` is the pid the step keeps after `exec`. */
export const PID_ANNOUNCE = `echo "${PID_MARKER} $$" >&2`;

const MARKER_LINE = new RegExp(`^${PID_MARKER} (\\d+)$`);
/** Stop looking for the marker after this much stderr (a login script that talks a lot). */
const SEARCH_LIMIT = 16 * 1024;

/**
 * Filters stderr: the marker line is taken out, everything else passes through unchanged.
 * Lines before the marker (a noisy login shell) pass through too.
 */
export class PidMarkerFilter {
  private pending = "";
  private searched = 0;
  private done = false;
  pid: number | undefined;

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
      const match = MARKER_LINE.exec(line.replace(/\r$/, ""));
      if (match) {
        this.pid = Number(match[1]);
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
