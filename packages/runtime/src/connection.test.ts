import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BgError } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { connectionOptions } from "./connection.ts";

const dir = mkdtempSync(join(tmpdir(), "bg-conn-"));
const servers = ["nats://bg:inline-secret@127.0.0.1:4222"];

async function failure(promise: Promise<unknown>): Promise<BgError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof BgError) return err;
    throw err;
  }
  throw new Error("expected a failure");
}

describe("connectionOptions", () => {
  it("reconnects forever with jitter and waits for the first server", async () => {
    const opts = await connectionOptions({ servers }, { name: "test" });
    expect(opts).toMatchObject({
      maxReconnectAttempts: -1,
      waitOnFirstConnect: false,
      name: "test",
    });
    expect(opts.reconnectJitter).toBeGreaterThan(0);
    expect(opts.authenticator).toBeUndefined();
  });

  it("reads the password and token from their files", async () => {
    writeFileSync(join(dir, "pass"), "from-file\n");
    const opts = await connectionOptions(
      { servers, user: "bg", pass_file: join(dir, "pass") },
      { name: "test" },
    );
    expect(Array.isArray(opts.authenticator) && opts.authenticator.length).toBe(1);
  });

  it("names a missing credential file in a BG_ERR_NATS_CONNECT, without the URL's secret", async () => {
    for (const [field, what] of [
      ["pass_file", "pass_file"],
      ["token_file", "token_file"],
      ["nkey_seed_file", "nkey_seed_file"],
      ["creds_file", "creds_file"],
    ] as const) {
      const cfg = {
        servers,
        ...(field === "pass_file" ? { user: "bg" } : {}),
        [field]: join(dir, "missing"),
      };
      const err = await failure(connectionOptions(cfg, { name: "test" }));
      expect(err.code).toBe("BG_ERR_NATS_CONNECT");
      expect(err.message).toContain(`${what} ${join(dir, "missing")} does not exist`);
      expect(err.message).not.toContain("inline-secret");
    }
  });

  it("checks TLS files too", async () => {
    const err = await failure(
      connectionOptions({ servers, tls: { ca_file: join(dir, "no-ca.pem") } }, { name: "test" }),
    );
    expect(err.message).toContain("tls.ca_file");
  });
});
