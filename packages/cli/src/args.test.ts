import { describe, expect, it } from "vitest";
import { durationOption, options, parse, sinceOption } from "./args.ts";
import { connectSettings } from "./connection.ts";
import { ExitCode, exitCodeOf } from "./exit-codes.ts";

describe("cli arguments", () => {
  it("reads --since as a duration ago or an ISO time, and refuses anything else", () => {
    const now = Date.parse("2026-11-26T10:00:00Z");
    expect(sinceOption({ since: "1h" }, now)?.toISOString()).toBe("2026-11-26T09:00:00.000Z");
    expect(sinceOption({ since: "2026-11-25T08:00:00Z" }, now)?.toISOString()).toBe(
      "2026-11-25T08:00:00.000Z",
    );
    expect(sinceOption({}, now)).toBeUndefined();
    expect(() => sinceOption({ since: "yesterday" }, now)).toThrow(/--since/);
  });

  it("turns a bad option into a usage error (exit 2)", () => {
    expect(() => parse(["--nope"], {})).toThrow(
      expect.objectContaining({ code: "BG_ERR_CLI_USAGE" }),
    );
    expect(() => durationOption({ timeout: "soon" }, "timeout", 1)).toThrow(/--timeout/);
  });

  it("takes the servers from --server, then NATS_URL, then the local default", () => {
    expect(connectSettings({ server: ["nats://a:4222,nats://b:4222"] }, {}).servers).toEqual([
      "nats://a:4222",
      "nats://b:4222",
    ]);
    expect(connectSettings({}, { NATS_URL: "nats://c:4222" }).servers).toEqual(["nats://c:4222"]);
    expect(connectSettings({}, {}).servers).toEqual(["nats://127.0.0.1:4222"]);
    expect(connectSettings({ user: "ci" }, { NATS_PASSWORD: "s3cret" })).toMatchObject({
      user: "ci",
      pass: "s3cret",
    });
  });

  it("maps each closing event to its documented exit code", () => {
    expect(exitCodeOf("bluegreen.deploy.succeeded")).toBe(ExitCode.ok);
    expect(exitCodeOf("bluegreen.deploy.rejected")).toBe(3);
    expect(exitCodeOf("bluegreen.deploy.failed")).toBe(4);
    expect(exitCodeOf("bluegreen.deploy.rolled_back")).toBe(5);
    expect(exitCodeOf("bluegreen.deploy.aborted")).toBe(7);
    expect(exitCodeOf("bluegreen.switch.done")).toBeUndefined();
  });

  it("builds a command's options by kind", () => {
    expect(options({ boolean: ["wait"], string: ["timeout", "id"] })).toEqual({
      wait: { type: "boolean" },
      timeout: { type: "string" },
      id: { type: "string" },
    });
  });
});
