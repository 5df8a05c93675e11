import { createSocket, type Socket } from "node:dgram";
import { open, stat } from "node:fs/promises";
import {
  MAX_WINDOW_LATENCIES,
  type RequestTally,
  type RequestWindow,
  statsSubject,
} from "@bluegreen/contracts";
import type { Logger } from "@bluegreen/runtime";

/**
 * The request-log reader on the nginx host: nginx writes one JSON line per request
 * (`log_format bluegreen_json escape=json '{"upstream":"$upstream_addr","status":"$status",
 * "rt":"$upstream_response_time","msec":"$msec","probe":"$http_x_bluegreen_probe"}'`) to a
 * syslog socket on loopback (UDP) or to a file; the reader folds them per upstream address
 * into short windows (≤ 100 ms) and publishes every window — an empty one too, so the monitor
 * can tell "no requests" from "no reader" — on core NATS `bgstats.<service>`, outside the
 * audit stream. I/O only; the line parsing and the folding are exported for the unit tests.
 */

export interface RequestLine {
  /** The upstream that answered last (`host:port`). */
  readonly upstream: string;
  readonly status: string;
  /** Seconds; undefined when nginx logged none (`-`). */
  readonly seconds: number | undefined;
  readonly probe: boolean;
}

/** One syslog datagram or file line → a request, or undefined for anything else. */
export function parseRequestLine(text: string): RequestLine | undefined {
  const start = text.indexOf("{");
  if (start < 0) return undefined;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text.slice(start)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const last = (v: unknown) =>
    String(v ?? "")
      .split(/,|\s:\s/)
      .pop()
      ?.trim() ?? "";
  const upstream = last(raw.upstream);
  const status = String(raw.status ?? "");
  if (upstream === "" || upstream === "-" || !/^\d{3}$/.test(status)) return undefined;
  const seconds = Number.parseFloat(last(raw.rt));
  return {
    upstream,
    status,
    seconds: Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined,
    probe: raw.probe !== undefined && raw.probe !== "" && raw.probe !== "-",
  };
}

const emptyTally = (): RequestTally => ({ statuses: {}, latencies: [] });

/** Folds requests into one window's per-upstream tallies. */
export class WindowFold {
  private upstreams = new Map<string, { real: RequestTally; probe: RequestTally }>();

  add(line: RequestLine): void {
    let entry = this.upstreams.get(line.upstream);
    if (entry === undefined) {
      entry = { real: emptyTally(), probe: emptyTally() };
      this.upstreams.set(line.upstream, entry);
    }
    const tally = line.probe ? entry.probe : entry.real;
    tally.statuses[line.status] = (tally.statuses[line.status] ?? 0) + 1;
    if (line.seconds === undefined) return;
    if (tally.latencies.length < MAX_WINDOW_LATENCIES) {
      tally.latencies.push(line.seconds);
      return;
    }
    // Reservoir sampling: every request's latency has the same chance to be kept.
    const seen = Object.values(tally.statuses).reduce((a, b) => a + b, 0);
    const slot = Math.floor(Math.random() * seen);
    if (slot < MAX_WINDOW_LATENCIES) tally.latencies[slot] = line.seconds;
  }

  /** The window so far, and a fresh one begins. */
  take(service: string, reader: string, from: number, to: number): RequestWindow {
    const upstreams = Object.fromEntries(this.upstreams);
    this.upstreams = new Map();
    return { v: 1, service, reader, from, to, upstreams };
  }
}

export interface RequestLogOptions {
  readonly service: string;
  /** `udp://127.0.0.1:5140` or an absolute file path. */
  readonly listen: string;
  readonly windowMs: number;
  readonly reader: string;
  readonly publish: (subject: string, data: Uint8Array) => void;
  readonly logger: Logger;
}

const FILE_POLL_MS = 20;
/** The window each reader folds requests into. */
export const REQUEST_WINDOW_MS = 100;

export class RequestLogReader {
  private readonly fold = new WindowFold();
  private readonly subject: string;
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private filePoll: NodeJS.Timeout | undefined;
  private windowStart = Date.now();
  private stopped = false;

  constructor(private readonly opts: RequestLogOptions) {
    this.subject = statsSubject(opts.service);
  }

  async start(): Promise<void> {
    const { listen } = this.opts;
    if (listen.startsWith("udp://")) await this.listenUdp(new URL(listen));
    else await this.tailFile(listen);
    this.windowStart = Date.now();
    this.timer = setInterval(() => this.flush(), this.opts.windowMs);
    this.opts.logger.info(
      { service: this.opts.service, listen, windowMs: this.opts.windowMs, subject: this.subject },
      "request-log reader started",
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.filePoll);
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private line(text: string): void {
    const request = parseRequestLine(text);
    if (request !== undefined) this.fold.add(request);
  }

  private flush(): void {
    const to = Date.now();
    const window = this.fold.take(this.opts.service, this.opts.reader, this.windowStart, to);
    this.windowStart = to;
    try {
      this.opts.publish(this.subject, new TextEncoder().encode(JSON.stringify(window)));
    } catch (err) {
      this.opts.logger.warn({ err, service: this.opts.service }, "request window not published");
    }
  }

  private async listenUdp(url: URL): Promise<void> {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    this.socket = socket;
    socket.on("message", (msg) => this.line(msg.toString("utf8")));
    socket.on("error", (err) =>
      this.opts.logger.warn({ err, service: this.opts.service }, "request-log socket error"),
    );
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(Number(url.port), host === "localhost" ? "127.0.0.1" : host, () => {
        socket.off("error", reject);
        resolve();
      });
    });
  }

  /** Follows a file from its current end (a file that shrank was rotated: read from 0). */
  private async tailFile(path: string): Promise<void> {
    let offset = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    let partial = "";
    const poll = async () => {
      try {
        const size = (await stat(path)).size;
        if (size < offset) offset = 0;
        if (size > offset) {
          const handle = await open(path, "r");
          try {
            const buffer = Buffer.alloc(size - offset);
            const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
            offset += bytesRead;
            const lines = (partial + buffer.subarray(0, bytesRead).toString("utf8")).split("\n");
            partial = lines.pop() ?? "";
            for (const l of lines) this.line(l);
          } finally {
            await handle.close();
          }
        }
      } catch {
        // Not there yet: nginx creates it with the first request.
      }
      if (!this.stopped) this.filePoll = setTimeout(poll, FILE_POLL_MS);
    };
    this.filePoll = setTimeout(poll, FILE_POLL_MS);
  }
}
