import { readFileSync } from "node:fs";
import { type AuthConfig, hashPasswordLine, startDashboard } from "@bluegreen/dashboard";
import { flag, options, str, usageError } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { whoami } from "../publish.ts";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/** `host:port` (or `[v6]:port`). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65_535) throw usageError(`--listen '${text}': expected host:port`);
  return { host: (m[1] ?? m[2]) as string, port };
}

export const dashboardCommand: CliCommand = {
  name: "dashboard",
  summary: "the fleet, each deployment's timeline and SLO chart, live in a browser",
  usage: `usage: bluegreen dashboard [--listen 127.0.0.1:3100] [--read-only]
       bluegreen dashboard --shared --listen 0.0.0.0:3100 (--password-file f | --auth-header h) [--actions]
       bluegreen dashboard --hash-password <user>   (reads the password on stdin)

Serves a live dashboard (fleet, service, deployment timeline and SLO charts, agents) with the
caller's NATS identity, until interrupted. Local (the default): on loopback, for the person
who runs it; promote, abort and rollback are offered (each asks for confirmation) and carry
their name (user@host), unless --read-only. Shared (a team screen, e.g. the systemd unit):
people sign in through a password file (HTTP Basic) or a reverse proxy's header; read-only
unless --actions. Cross-site requests are refused. See docs/dashboard.md.

options:
  --listen <host:port>     where to listen (default 127.0.0.1:3100; port 0 picks one)
  --read-only              local mode without actions
  --shared                 a shared dashboard (needs --password-file or --auth-header)
  --password-file <file>   lines 'user:scrypt$…' (make one with --hash-password)
  --auth-header <name>     trust this header for the person's name (set by the proxy)
  --actions                shared mode: offer promote/abort/rollback
  --hash-password <user>   print a password-file line for <user> and exit

examples:
  bluegreen dashboard
  bluegreen dashboard --shared --listen 127.0.0.1:3100 --auth-header X-Forwarded-User --actions`,
  options: options({
    boolean: ["read-only", "shared", "actions"],
    string: ["listen", "password-file", "auth-header", "hash-password"],
  }),
  async run({ values, io, nats }) {
    const hashFor = str(values, "hash-password");
    if (hashFor !== undefined) {
      const password = readFileSync(0, "utf8").replace(/\r?\n$/, "");
      if (password === "") throw usageError("--hash-password: no password on stdin");
      io.out(hashPasswordLine(hashFor, password));
      return ExitCode.ok;
    }
    const listen = parseListen(str(values, "listen") ?? "127.0.0.1:3100");
    const shared = flag(values, "shared");
    const passwordFile = str(values, "password-file");
    const header = str(values, "auth-header");
    let auth: AuthConfig;
    if (!shared) {
      if (passwordFile !== undefined || header !== undefined || flag(values, "actions"))
        throw usageError("--password-file, --auth-header and --actions go with --shared");
      if (!LOOPBACK.has(listen.host))
        throw usageError(
          `a local dashboard listens on loopback only; use --shared for ${listen.host}`,
        );
      auth = { kind: "local", user: whoami() };
    } else {
      if ((passwordFile === undefined) === (header === undefined))
        throw usageError("--shared needs one of --password-file or --auth-header");
      if (flag(values, "read-only")) throw usageError("--shared is read-only unless --actions");
      auth =
        passwordFile !== undefined
          ? { kind: "password-file", path: passwordFile }
          : { kind: "header", header: header as string };
    }
    const actions = shared ? flag(values, "actions") : !flag(values, "read-only");
    const nc = await nats({ follow: true });
    const dashboard = await startDashboard({ nc, ...listen, auth, actions });
    io.out(
      `dashboard listening on ${dashboard.url} (${shared ? "shared" : "local"}, ${actions ? "actions on" : "read-only"})`,
    );
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await dashboard.stop();
    return ExitCode.ok;
  },
};
