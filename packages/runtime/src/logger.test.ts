import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { childLogger, createLogger, REDACT_CENSOR, redactPaths, redactUrl } from "./logger.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return {
    lines,
    destination,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("redactPaths", () => {
  it("covers every secret key at the top level and below", () => {
    const paths = redactPaths(["pass"], 2);
    expect(paths).toEqual(["pass", "*.pass", "*.*.pass"]);
    const all = redactPaths();
    for (const key of [
      "pass",
      "password",
      "token",
      "passphrase",
      "authorization",
      "nkey",
      "seed",
      "creds",
    ]) {
      expect(all).toContain(key);
      expect(all).toContain(`*.*.${key}`);
    }
  });
});

describe("createLogger", () => {
  it("writes JSON lines with level names and the bound fields", () => {
    const out = capture();
    const log = createLogger({ destination: out.destination, base: { role: "switcher" } });
    childLogger(log, { component: "bus", service: "emily", deploymentId: undefined }).info("hello");
    const [record] = out.records();
    expect(record).toMatchObject({
      level: "info",
      role: "switcher",
      component: "bus",
      service: "emily",
      msg: "hello",
    });
    expect(record).not.toHaveProperty("deploymentId");
  });

  it("redacts secrets wherever they sit in a log object", () => {
    const out = capture();
    const log = createLogger({ destination: out.destination });
    log.info(
      {
        pass: "hunter2-top",
        config: { nats: { user: "bg", pass: "hunter2-nested", token: "tok-secret" } },
        headers: { authorization: "Bearer abc.def" },
        ssh: { passphrase: "open-sesame" },
      },
      "config loaded",
    );
    const line = out.lines.join("\n");
    for (const secret of [
      "hunter2-top",
      "hunter2-nested",
      "tok-secret",
      "Bearer abc.def",
      "open-sesame",
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain(REDACT_CENSOR);
    expect(line).toContain('"user":"bg"');
  });
});

describe("redactUrl", () => {
  it("drops user info from server URLs", () => {
    expect(redactUrl("nats://bg:s3cret@10.0.0.1:4222")).toBe("nats://10.0.0.1:4222");
    expect(redactUrl("tls://token@nats.example:4222")).toBe("tls://nats.example:4222");
    expect(redactUrl("nats://127.0.0.1:4222")).toBe("nats://127.0.0.1:4222");
    expect(redactUrl("127.0.0.1:4222")).toBe("127.0.0.1:4222");
  });
});
