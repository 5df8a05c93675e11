import { Writable } from "node:stream";
import { type ActiveRecord, BgError } from "@bluegreen/contracts";
import { createLogger, type Logger } from "@bluegreen/runtime";
import { describe, expect, it } from "vitest";
import type { SwitchRequest } from "./decide.ts";
import type { SwitchMetrics } from "./metrics.ts";
import type { SwitchOutcome, SwitchResult } from "./outcome.ts";
import type { SwitchPorts } from "./ports.ts";
import { switchRunner } from "./start.ts";
import { fixtureDefinition } from "./test-fixture.ts";
import { colorOfFile, generationOfFile, renderUpstream } from "./upstream-file.ts";

/**
 * A request carried through the transition runner against an in-memory world: which commands
 * and steps run, what is restored, what is recorded, what is answered. The real adapters
 * (files, nginx, KV, HTTP) are exercised in tests/switcher.
 */

const def = fixtureDefinition({ file: "/nginx/emily-active.conf" });
const FILE = def.traffic.file;
const nginx = {
  testCommand: ["nginx", "-t"],
  reloadCommand: ["nginx", "-s", "reload"],
  commandTimeoutMs: 1000,
};

interface World {
  ports: SwitchPorts;
  files: Map<string, string>;
  kv: { record: ActiveRecord | undefined; revision: number };
  calls: string[];
  /** Probes are started with the reads, whatever the decision. */
  probes: string[];
  /** The generation each verification asked nginx's answers for. */
  generations: (string | undefined)[];
  /** The answers published: the event's name, id and data. */
  published: { name: string; id: string | undefined; data: unknown }[];
  /** The results counted in the metrics. */
  counted: SwitchResult[];
  /** Carries one request through a switcher; the answer it published. */
  request(req: SwitchRequest): Promise<SwitchOutcome & { result?: SwitchResult }>;
}

function world(
  opts: {
    file?: "blue" | "green";
    record?: ActiveRecord;
    revision?: number;
    ready?: boolean;
    /** How long the probe takes on the world's clock. */
    probeMs?: number;
    test?: boolean;
    reload?: boolean;
    /** Outcome of each reload in turn (overrides `reload`). */
    reloads?: boolean[];
    verify?: boolean;
    casConflict?: boolean;
    /** The service is not among the switcher's; or has no definition. */
    serves?: boolean;
    defined?: boolean;
    logger?: Logger;
  } = {},
): World {
  const files = new Map<string, string>();
  if (opts.file !== undefined) files.set(FILE, renderUpstream(def, opts.file, "g0"));
  const kv = { record: opts.record, revision: opts.revision ?? (opts.record ? 1 : 0) };
  const calls: string[] = [];
  const probes: string[] = [];
  const generations: (string | undefined)[] = [];
  let clock = Date.parse("2026-01-12T12:00:00.000Z");
  const ports: SwitchPorts = {
    readActive: async () => ({ record: kv.record, revision: kv.revision }),
    writeActive: async (_s, record, expected) => {
      calls.push(`record ${record.color}`);
      if (opts.casConflict || expected !== kv.revision) {
        throw new BgError("BG_ERR_KV_CONFLICT", { key: "emily", bucket: "b", expected });
      }
      kv.record = record;
      kv.revision += 1;
      return kv.revision;
    },
    readFile: async (path) => files.get(path),
    writeFile: async (path, content) => {
      calls.push(`write ${colorOfFile(content, def).color}`);
      files.set(path, content);
      return { dirSynced: Promise.resolve() };
    },
    restoreFile: async (path, previous) => {
      calls.push("restore");
      if (previous === undefined) files.delete(path);
      else files.set(path, previous);
    },
    runCommand: async (argv) => {
      const isTest = argv.includes("-t");
      calls.push(isTest ? "test" : "reload");
      const ok = isTest ? (opts.test ?? true) : (opts.reloads?.shift() ?? opts.reload ?? true);
      return {
        ok,
        code: ok ? 0 : 1,
        output: ok ? "ok" : 'nginx: [emerg] unknown directive "proxy_passs"',
        durationMs: 1,
      };
    },
    probe: async (_d, color) => {
      probes.push(color);
      clock += opts.probeMs ?? 0;
      return (opts.ready ?? true)
        ? { ready: true }
        : { ready: false, node: "10.0.0.11:8000", reason: "ECONNREFUSED" };
    },
    verify: async (_u, _d, color, verifyOpts) => {
      generations.push(verifyOpts.generation);
      calls.push(`verify ${color} (polling from the reload on)`);
      return (opts.verify ?? true)
        ? { ok: true, attempts: 3, durationMs: 30 }
        : { ok: false, attempts: 9, durationMs: 2000, last: "HTTP 200 from blue" };
    },
    now: () => new Date(clock),
  };
  const published: World["published"] = [];
  const counted: SwitchResult[] = [];
  const metrics: SwitchMetrics = {
    observe: (result) => counted.push(result),
    nginxTestFailed: () => undefined,
    drift: () => undefined,
  };
  const runner = switchRunner({
    serves: () => opts.serves ?? true,
    definitions: { get: () => ((opts.defined ?? true) ? def : undefined) },
    ports,
    nginx,
    bus: {
      emit: async (name, emitted) => {
        published.push({ name, id: emitted.id, data: emitted.data });
        return undefined as never;
      },
    },
    metrics,
    logger: opts.logger,
  });
  const request = async (r: SwitchRequest) => {
    await runner.apply(r.service, { kind: "requested", request: r });
    const last = published.at(-1);
    if (last === undefined) throw new Error("nothing was answered");
    return {
      kind: last.name === "switch.done" ? "done" : "failed",
      data: last.data,
      result: counted.at(-1),
    } as SwitchOutcome & { result?: SwitchResult };
  };
  return { ports, files, kv, calls, probes, generations, published, counted, request };
}

const blueRecord: ActiveRecord = {
  color: "blue",
  version: "v1.0",
  switchedAt: "2026-01-12T10:00:00.000Z",
  reason: "initial",
  previous: null,
};
const req = (over: Partial<SwitchRequest> = {}): SwitchRequest => ({
  id: "r1",
  service: "emily",
  to: "green",
  reason: "promote",
  expectedRevision: 1,
  version: "v1.1",
  ...over,
});

describe("a switch request, carried out", () => {
  it("given the request's deadline passed while the target was probed, then nothing is written or reloaded: refused, stage expired", async () => {
    const w = world({ file: "blue", record: blueRecord, probeMs: 2_000 });
    const deadline = Date.parse("2026-01-12T12:00:01.000Z"); // a second after the world's clock
    const outcome = await w.request(req({ deadline }));
    expect(w.probes).toEqual(["green"]);
    expect(w.calls).toEqual([]);
    expect(outcome).toMatchObject({
      kind: "failed",
      result: "refused",
      data: { stage: "expired", restored: true, error: { code: "BG_ERR_SWITCH_EXPIRED" } },
    });
    expect(colorOfFile(w.files.get(FILE) ?? "", def).color).toBe("blue");
  });

  it("given a deadline still ahead, then the switch goes through", async () => {
    const w = world({ file: "blue", record: blueRecord });
    const deadline = Date.parse("2026-01-12T12:00:30.000Z");
    const outcome = await w.request(req({ deadline }));
    expect(outcome.kind).toBe("done");
    expect(w.calls).toContain("reload");
  });

  it("switches: probe, write, test, reload, verify, record — and reports each step's time", async () => {
    const w = world({ file: "blue", record: blueRecord });
    const outcome = await w.request(req({ deploymentId: "d1" }));
    expect(w.probes).toEqual(["green"]);
    expect(w.calls).toEqual([
      "write green",
      "test",
      "verify green (polling from the reload on)",
      "reload",
      "record green",
    ]);
    expect(outcome.kind).toBe("done");
    if (outcome.kind !== "done") return;
    expect(outcome.data).toMatchObject({
      from: "blue",
      to: "green",
      changed: true,
      revision: 2,
      version: "v1.1",
    });
    for (const step of [
      "probeMs",
      "writeMs",
      "testMs",
      "reloadMs",
      "verifyMs",
      "recordMs",
      "totalMs",
    ]) {
      expect(outcome.data.timings).toHaveProperty(step);
    }
    expect(w.kv.record).toMatchObject({
      color: "green",
      deploymentId: "d1",
      previous: { color: "blue", version: "v1.0" },
    });
    const written = w.files.get(FILE) ?? "";
    expect(colorOfFile(written, def).color).toBe("green");
    expect(w.generations).toEqual([generationOfFile(written, "emily_active")]);
    expect(w.generations[0]).not.toBe("g0");
  });

  it("refuses a stale fence without touching anything", async () => {
    const w = world({ file: "blue", record: blueRecord, revision: 3 });
    const outcome = await w.request(req({ expectedRevision: 2 }));
    expect(w.calls).toEqual([]); // a probe is harmless; nothing was written or reloaded
    expect(outcome).toMatchObject({
      kind: "failed",
      result: "refused",
      data: {
        stage: "fence",
        restored: true,
        activeColor: "blue",
        error: { code: "BG_ERR_SWITCH_STALE_REVISION" },
      },
    });
  });

  it("answers changed:false without any step when the target already serves", async () => {
    const w = world({ file: "green", record: { ...blueRecord, color: "green" } });
    const outcome = await w.request(req());
    expect(w.calls).toEqual([]);
    expect(outcome).toMatchObject({
      kind: "done",
      data: { changed: false, from: "green", to: "green", revision: 1 },
    });
  });

  it("never switches to a colour that is not ready", async () => {
    const w = world({ file: "green", record: { ...blueRecord, color: "green" }, ready: false });
    const outcome = await w.request(req({ to: "blue", reason: "rollback" }));
    expect(w.probes).toEqual(["blue"]);
    expect(w.calls).toEqual([]);
    expect(outcome).toMatchObject({
      kind: "failed",
      result: "refused",
      data: {
        stage: "probe",
        activeColor: "green",
        error: { code: "BG_ERR_SWITCH_TARGET_NOT_READY" },
      },
    });
  });

  it("puts the previous file back when nginx rejects the configuration, without reloading", async () => {
    const w = world({ file: "blue", record: blueRecord, test: false });
    const before = w.files.get(FILE);
    const outcome = await w.request(req());
    expect(w.calls).toEqual(["write green", "test", "restore"]);
    expect(w.files.get(FILE)).toBe(before);
    expect(outcome).toMatchObject({
      kind: "failed",
      data: {
        stage: "test",
        restored: true,
        activeColor: "blue",
        output: expect.stringContaining("proxy_passs"),
      },
    });
    expect(w.kv.record).toBe(blueRecord);
  });

  it("restores and reloads again when traffic does not reach the target", async () => {
    const w = world({ file: "blue", record: blueRecord, verify: false });
    const outcome = await w.request(req());
    expect(w.calls).toEqual([
      "write green",
      "test",
      "verify green (polling from the reload on)",
      "reload",
      "restore",
      "reload",
    ]);
    expect(outcome).toMatchObject({
      kind: "failed",
      data: {
        stage: "verify",
        restored: true,
        activeColor: "blue",
        error: { code: "BG_ERR_SWITCH_VERIFY_FAILED" },
      },
    });
    expect(colorOfFile(w.files.get(FILE) ?? "", def).color).toBe("blue");
  });

  it("restores and reloads again when the reload fails (nginx may have taken the new file)", async () => {
    const w = world({ file: "blue", record: blueRecord, verify: false, reloads: [false, true] });
    const outcome = await w.request(req());
    expect(w.calls.slice(-3)).toEqual(["reload", "restore", "reload"]);
    expect(outcome).toMatchObject({
      kind: "failed",
      data: { stage: "reload", restored: true, activeColor: "blue" },
    });
    expect(colorOfFile(w.files.get(FILE) ?? "", def).color).toBe("blue");
  });

  it("says the restore is not certain when nginx cannot be reloaded at all", async () => {
    const w = world({ file: "blue", record: blueRecord, verify: false, reload: false });
    const outcome = await w.request(req());
    expect(outcome).toMatchObject({ kind: "failed", data: { stage: "reload", restored: false } });
    expect(colorOfFile(w.files.get(FILE) ?? "", def).color).toBe("blue");
  });

  it("removes a file that did not exist before, when the first switch fails", async () => {
    const w = world({ reloads: [false, true] });
    const outcome = await w.request(req({ expectedRevision: 0 }));
    expect(outcome).toMatchObject({ kind: "failed", data: { stage: "reload", restored: true } });
    expect(w.calls).toEqual([
      "write green",
      "test",
      "verify green (polling from the reload on)",
      "reload",
      "restore",
      "reload",
    ]);
    expect(w.files.has(FILE)).toBe(false);
  });

  it("reports a record that could not be written, with nginx serving the target", async () => {
    const w = world({ file: "blue", record: blueRecord, casConflict: true });
    const outcome = await w.request(req());
    expect(outcome).toMatchObject({
      kind: "failed",
      result: "failed",
      data: {
        stage: "record",
        restored: false,
        activeColor: "green",
        error: { code: "BG_ERR_SWITCH_RECORD_FAILED" },
      },
    });
  });

  it("records the file's colour when nothing is recorded and the file already serves the target", async () => {
    const w = world({ file: "green" });
    const outcome = await w.request(req({ expectedRevision: 0 }));
    expect(w.calls).toEqual(["record green"]);
    expect(outcome).toMatchObject({ kind: "done", data: { changed: false, revision: 1 } });
  });

  it("given the deadline passed before the request was taken up, then it is refused at once: nothing read, probed or touched", async () => {
    const w = world({ file: "blue", record: blueRecord });
    const deadline = Date.parse("2026-01-12T12:00:00.000Z"); // the world's clock
    const outcome = await w.request(req({ deadline }));
    expect(w.probes).toEqual([]);
    expect(w.calls).toEqual([]);
    expect(outcome).toMatchObject({
      kind: "failed",
      result: "refused",
      data: { stage: "expired", restored: true, activeColor: null },
    });
  });

  it("refuses a service this switcher does not serve, and one without a definition", async () => {
    const foreign = await world({ serves: false }).request(req());
    expect(foreign).toMatchObject({
      result: "refused",
      data: { stage: "config", error: { code: "BG_ERR_SWITCH_UNKNOWN_SERVICE" } },
    });
    const w = world({ defined: false });
    expect(await w.request(req())).toMatchObject({
      result: "refused",
      data: { stage: "config", error: { code: "BG_ERR_CONFIG_UNKNOWN_SERVICE" } },
    });
    expect(w.probes).toEqual([]);
  });

  it("answers a request seen before again, with the same answer id, and does nothing else", async () => {
    const w = world({ file: "blue", record: blueRecord });
    const first = await w.request(req({ deploymentId: "d1" }));
    const calls = [...w.calls];
    const again = await w.request(req({ deploymentId: "d1" }));
    expect(again).toEqual({ ...first, result: first.result });
    expect(w.calls).toEqual(calls);
    expect(w.probes).toEqual(["green"]);
    expect(w.published.map((p) => p.id)).toEqual(["r1.done", "r1.done"]);
    expect(w.counted).toEqual(["changed"]); // the repeat is not counted again
  });

  it("switches one request at a time per service, in arrival order", async () => {
    const w = world({ file: "blue", record: blueRecord });
    const runs = [
      w.request(req({ id: "a", to: "green", expectedRevision: 1 })),
      w.request(req({ id: "b", to: "blue", expectedRevision: 2, reason: "rollback" })),
    ];
    await Promise.all(runs);
    expect(w.published.map((p) => `${p.id}`)).toEqual(["a.done", "b.done"]);
    expect(w.kv).toMatchObject({ revision: 3, record: { color: "blue" } });
  });

  it("logs every line of a request with one component, its service, deployment and request", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, next) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        next();
      },
    });
    const logger = createLogger({ level: "debug", destination });
    const w = world({ file: "blue", record: blueRecord, verify: false, logger });
    await w.request(req({ deploymentId: "d1" }));
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) {
      expect(line.match(/"component":/g)).toHaveLength(1);
      expect(JSON.parse(line)).toMatchObject({
        component: "switch",
        service: "emily",
        deploymentId: "d1",
        eventId: "r1",
      });
    }
  });
});
