import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import {
  type AuditReport,
  exportHeader,
  exportLine,
  formatProblem,
  keyIdOf,
  loadPublicKey,
  parseExport,
  readTrail,
  type StoredMessage,
  verifyTrail,
  writeKeyPair,
} from "@bluegreen/runtime";
import { flag, options, positional, readFileArg, sinceOption, str, usageError } from "../args.ts";
import type { CliCommand, CliContext } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";

const USAGE = `usage: bluegreen audit verify --public-key FILE... [--export FILE] [--json]
       bluegreen audit export [--since <seq|1h|ISO>] [--out FILE]
       bluegreen audit keygen --out DIR

Checks that the audit trail (the stream BLUEGREEN) is whole, against the checkpoints the
leading coordinator signs (docs/audit.md).

  verify   reads the stream (or an export), recomputes the hash chain, checks every
           checkpoint's signature and links, and prints each problem with its sequence: a
           missing event (a gap), an altered event, reordered events, a checkpoint that does
           not match or does not follow the previous one. Events after the last checkpoint
           are a warning. When max_age removed the oldest events, the trail begins at the
           first checkpoint whose range is present, and verify says so.
           Exit 0 when the trail verifies, 8 when a problem was found.
  export   writes JSON lines (a header, then every stream message with its sequence, subject,
           Nats-Msg-Id, payload and time; the checkpoints are among them) for keeping the
           trail longer than the stream's max_age. \`verify --export\` checks it without NATS.
  keygen   writes a new ed25519 pair: DIR/audit-signing.key (0600, for the coordinator's
           audit.signing_key_file) and DIR/audit-signing.pub (for auditors).

options:
  --public-key <file>  the coordinator's public key (PEM); repeat it to verify across a key
                       rotation (checkpoints of any of the keys count)
  --export <file>      verify this export instead of the stream
  --since <when>       export from this stream sequence (42), this long ago (7d) or this ISO
                       time (default: everything)
  --out <file|dir>     export: the file (default: stdout); keygen: the directory
  --json               verify: the report as one JSON document

examples:
  bluegreen audit keygen --out /etc/bluegreen/audit
  bluegreen audit verify --public-key audit-signing.pub
  bluegreen audit export --since 30d --out trail-2026-12.jsonl
  bluegreen audit verify --public-key audit-signing.pub --export trail-2026-12.jsonl
  bluegreen audit verify --public-key old.pub --public-key new.pub   # across a rotation`;

function required(values: CliContext["values"], name: string): string {
  const v = str(values, name);
  if (v === undefined) throw usageError(`--${name} is required`);
  return v;
}

function printReport(io: CliIo, report: AuditReport, keyId: string): void {
  const begins =
    report.begins === undefined
      ? "nothing verified"
      : `begins at seq ${report.begins.seq} (checkpoint #${report.begins.checkpoint})${
          report.begins.checkpoint > 0 ? ": earlier events aged out or were not exported" : ""
        }; covered to seq ${report.coveredTo}`;
  io.out(
    `trail: ${report.messages} message(s), ${report.checkpoints} checkpoint(s) signed by key ${keyId}; ${begins}`,
  );
  for (const w of report.warnings) io.out(`warning: ${w}`);
  for (const p of report.problems) io.out(`problem: ${formatProblem(p)}`);
  io.out(
    report.ok
      ? "ok: the trail verifies"
      : `FAILED: ${report.problems.length} problem(s) in the audit trail`,
  );
}

async function verify(ctx: CliContext): Promise<ExitCode> {
  // Repeatable: the keys before and after a rotation.
  const files = ([] as unknown[]).concat(ctx.values["public-key"] ?? []).map(String);
  if (files.length === 0) throw usageError("--public-key is required");
  const keys = files.map(loadPublicKey);
  const keyIds = keys.map(keyIdOf);
  const file = str(ctx.values, "export");
  let messages: StoredMessage[];
  let lastSeq: number;
  if (file !== undefined) {
    const parsed = parseExport(await readFileArg(file), file);
    messages = parsed.messages;
    lastSeq = parsed.header.streamLastSeq;
  } else {
    const nc = await ctx.nats();
    const read = await readTrail(nc.jetstream(), await nc.jetstreamManager());
    messages = read.messages;
    lastSeq = read.lastSeq;
  }
  const report = verifyTrail(messages, keys, { lastSeq });
  if (flag(ctx.values, "json")) ctx.io.out(JSON.stringify({ keyId: keyIds[0], keyIds, ...report }));
  else printReport(ctx.io, report, keyIds.join(", "));
  return report.ok ? ExitCode.ok : ExitCode.auditFailed;
}

async function exportTrail(ctx: CliContext): Promise<ExitCode> {
  const raw = str(ctx.values, "since");
  const fromSeq = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
  const since = fromSeq === undefined ? sinceOption(ctx.values) : undefined;
  const nc = await ctx.nats();
  const read = await readTrail(nc.jetstream(), await nc.jetstreamManager(), {
    ...(fromSeq === undefined ? {} : { fromSeq }),
    ...(since === undefined ? {} : { since }),
  });
  const lines = [
    JSON.stringify(exportHeader({ firstSeq: read.firstSeq, lastSeq: read.lastSeq }, new Date())),
    ...read.messages.map(exportLine),
  ];
  const out = str(ctx.values, "out");
  if (out === undefined) {
    for (const line of lines) ctx.io.out(line);
    return ExitCode.ok;
  }
  await new Promise<void>((resolve, reject) => {
    const stream = createWriteStream(out, { flags: "wx" });
    stream.on("error", reject);
    for (const line of lines) stream.write(`${line}\n`);
    stream.end(resolve);
  });
  ctx.io.err(
    `exported ${read.messages.length} message(s) (seq ${read.messages[0]?.seq ?? "-"}..${read.messages[read.messages.length - 1]?.seq ?? "-"}) to ${out}`,
  );
  return ExitCode.ok;
}

async function keygen(ctx: CliContext): Promise<ExitCode> {
  const dir = required(ctx.values, "out");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let keys: ReturnType<typeof writeKeyPair>;
  try {
    keys = writeKeyPair(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    throw usageError(`${dir} already holds an audit key: keygen never overwrites one`);
  }
  ctx.io.out(`private key: ${keys.privateKeyFile} (0600: for the coordinator only)`);
  ctx.io.out(`public key:  ${keys.publicKeyFile} (for auditors: audit verify --public-key)`);
  ctx.io.out(`key id:      ${keys.keyId}`);
  return ExitCode.ok;
}

export const auditCommand: CliCommand = {
  name: "audit",
  summary: "audit verify|export|keygen: check the signed audit trail, keep it, make keys",
  usage: USAGE,
  options: {
    ...options({ boolean: ["json"], string: ["export", "since", "out"] }),
    "public-key": { type: "string", multiple: true },
  },
  async run(ctx) {
    const sub = positional(ctx.positionals, 0, "verify|export|keygen");
    if (sub === "verify") return verify(ctx);
    if (sub === "export") return exportTrail(ctx);
    if (sub === "keygen") return keygen(ctx);
    throw usageError(`unknown subcommand 'audit ${sub}' (try: audit verify, export, keygen)`);
  },
};
