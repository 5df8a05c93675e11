import { BgError, compileServiceDefinition, createEvent, STREAM_NAME } from "@bluegreen/contracts";
import { ensureBuckets, ensureStream, putDefinition } from "@bluegreen/runtime";
import { flag, readFileArg, str, usageError } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { printApplyDiff } from "../dry-run.ts";
import { ExitCode } from "../exit-codes.ts";
import { cliSource, whoami } from "../publish.ts";
import { printConfigError } from "./config.ts";

/** The audit stream's default age when `apply` is the first thing ever run (agents may change it). */
const DEFAULT_STREAM_MAX_AGE_MS = 90 * 86_400_000;

export const applyCommand: CliCommand = {
  name: "apply",
  summary: "validate a service definition and store it in KV",
  usage: `usage: bluegreen apply -f <definition.yaml> [--dry-run] [--json]

Validates the service definition (every problem with its path and line), stores it in the
KV bucket bluegreen_services under its service name, and records a config.applied event.
Every agent follows the change. An invalid file changes nothing and exits 3.

options:
  -f, --file <path>   the definition (YAML); also accepted as the first argument
  --dry-run           validate and print the diff against the stored revision; write nothing
  --json              one JSON line: service, revision, sha256

examples:
  bluegreen apply -f examples/emily/service.yaml
  bluegreen apply -f examples/emily/service.yaml --dry-run`,
  options: {
    file: { type: "string", short: "f" },
    json: { type: "boolean" },
    "dry-run": { type: "boolean" },
  },
  async run(ctx) {
    const { values, positionals, io, nats, bus } = ctx;
    const file = str(values, "file") ?? positionals[0];
    if (file === undefined) throw usageError("missing -f <definition.yaml>");
    const text = await readFileArg(file);
    let service: string;
    try {
      service = compileServiceDefinition(text, { source: file }).service;
    } catch (err) {
      if (err instanceof BgError) return printConfigError(io, err);
      throw err;
    }
    if (flag(values, "dry-run")) return printApplyDiff(ctx, service, text);
    const nc = await nats();
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const kv = await ensureBuckets(js, { replicas: 1 });
    const stored = await putDefinition(kv.services, text, { source: file });
    const hasStream = await jsm.streams.info(STREAM_NAME).then(
      () => true,
      () => false,
    );
    if (!hasStream) await ensureStream(jsm, { maxAgeMs: DEFAULT_STREAM_MAX_AGE_MS, replicas: 1 });
    const event = createEvent("config.applied", {
      service: stored.service,
      source: cliSource(),
      id: `cfg-${stored.service}-${stored.revision}`,
      data: {
        revision: stored.revision,
        sha256: stored.sha256,
        by: whoami(),
        file: file.slice(0, 1024),
      },
    });
    await (await bus()).publish(event, { validated: true });
    if (flag(values, "json"))
      io.out(
        JSON.stringify({
          service: stored.service,
          revision: stored.revision,
          sha256: stored.sha256,
        }),
      );
    else
      io.out(
        `applied ${stored.service}: revision ${stored.revision}, sha256 ${stored.sha256.slice(0, 12)}`,
      );
    return ExitCode.ok;
  },
};
