import { describe, expect, it } from "vitest";
import { cliReconnect, connectSettings } from "./connection.ts";

describe("the CLI's connection", () => {
  it("a command that follows the stream reconnects without limit; the others give up after two attempts", () => {
    expect(cliReconnect({ follow: true })).toEqual({
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    expect(cliReconnect({ follow: false }).maxReconnectAttempts).toBe(2);
    expect(cliReconnect({}).maxReconnectAttempts).toBe(2);
  });

  it("takes every server of a comma-separated or repeated --server (a cluster's URLs)", () => {
    const settings = connectSettings(
      { server: ["nats://a:4222,nats://b:4222", " nats://c:4222 "] },
      {},
    );
    expect(settings.servers).toEqual(["nats://a:4222", "nats://b:4222", "nats://c:4222"]);
  });
});
