// Given a real nats-server with the BLUEGREEN stream, a one-shot read of the stream (what
// `bluegreen tail` without --follow and the dashboard's missed ranges read through)
// ends once it caught up — never earlier because the server paused — and fails, coded, when
// the server stops answering for good.

import { createEvent, encodeEvent, eventSubject, STREAM_NAME } from "@bluegreen/contracts";
import { readStream } from "@bluegreen/runtime";
import { startNats } from "@bluegreen/testkit";
import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Fixture, startFixture } from "./helpers.ts";

let fx: Fixture;
const EVENTS = 1_500;

beforeAll(async () => {
  fx = await startFixture({ agentId: "read-stream-test" });
  const js = fx.nc.jetstream();
  for (let i = 0; i < EVENTS; i++) {
    const event = createEvent("deploy.requested", {
      service: "reads",
      source: "bluegreen/test/read-stream",
      data: { version: `v1.${i}` },
    });
    await js.publish(eventSubject("reads", "deploy.requested"), encodeEvent(event));
  }
}, 60_000);
afterAll(async () => {
  await fx?.close();
});

/** Pauses the server (SIGSTOP) for `ms`, then lets it go on. */
async function pauseServer(ms: number): Promise<void> {
  const pid = fx.server.process?.pid;
  if (pid === undefined) throw new Error("the test's nats-server is not a local process");
  process.kill(pid, "SIGSTOP");
  await new Promise((resolve) => setTimeout(resolve, ms));
  process.kill(pid, "SIGCONT");
}

describe("a one-shot read of the stream", () => {
  it("reads every message to the end, across a 2.5 s pause of the server", async () => {
    const seqs: number[] = [];
    let paused: Promise<void> | undefined;
    for await (const item of readStream(fx.nc.jetstream(), { service: "reads", follow: false })) {
      seqs.push(item.seq);
      // Past the first pull's batch (256), the next pulls wait for the paused server.
      if (seqs.length === 300) paused = pauseServer(2_500);
    }
    await paused;
    expect(seqs).toHaveLength(EVENTS);
    expect(new Set(seqs).size).toBe(EVENTS);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  }, 30_000);

  it("ends without an error when what was still to read is purged meanwhile", async () => {
    // bluegreen's stream refuses purges: a server and a plain stream of the same name here.
    await using server = await startNats({ jetstream: true });
    const nc = await connect(server.connectOptions);
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: STREAM_NAME, subjects: ["bluegreen.>"] });
      const js = nc.jetstream();
      for (let i = 0; i < 1_000; i++) {
        const event = createEvent("deploy.requested", {
          service: "purged",
          source: "bluegreen/test/read-stream",
          data: { version: `v2.${i}` },
        });
        await js.publish(eventSubject("purged", "deploy.requested"), encodeEvent(event));
      }
      let read = 0;
      for await (const _ of readStream(js, { service: "purged", follow: false, stallMs: 1_000 })) {
        read++;
        // Past the first pull's batch: what the next pulls would read is gone.
        if (read === 10) await jsm.streams.purge(STREAM_NAME);
      }
      expect(read).toBeGreaterThanOrEqual(10);
      expect(read).toBeLessThan(1_000);
    } finally {
      await nc.close();
    }
  }, 30_000);

  it("ends at once when nothing is there to read", async () => {
    const items = [];
    for await (const item of readStream(fx.nc.jetstream(), {
      service: "nobody-here",
      follow: false,
    }))
      items.push(item);
    expect(items).toEqual([]);
  });

  it("fails with BG_ERR_NATS_CONNECT when the server stops answering mid-read (no silent end)", async () => {
    // The server stays stopped past the stall (2 s) and the question it then asks (nats.js'
    // 5 s request timeout): no message came again meanwhile.
    const seqs: number[] = [];
    let paused: Promise<void> | undefined;
    const read = (async () => {
      for await (const item of readStream(fx.nc.jetstream(), {
        service: "reads",
        follow: false,
        stallMs: 2_000,
      })) {
        seqs.push(item.seq);
        if (seqs.length === 300) paused = pauseServer(9_000);
      }
    })();
    await expect(read).rejects.toMatchObject({ code: "BG_ERR_NATS_CONNECT" });
    expect(seqs.length).toBeGreaterThanOrEqual(300);
    expect(seqs.length).toBeLessThan(EVENTS);
    await paused; // the server goes on
  }, 30_000);
});
