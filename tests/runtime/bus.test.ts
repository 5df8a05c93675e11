// Given a real nats-server with the BLUEGREEN stream, the bus publishes validated events,
// consumes them through durable pull consumers, and answers bad input with agent.rejected.

import { BgError, type BgEvent, filterSubject, STREAM_NAME } from "@bluegreen/contracts";
import { consumerName, type HandlerContext } from "@bluegreen/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployRequested, eventually, type Fixture, startFixture } from "./helpers.ts";

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture({ role: "coordinator", agentId: "bus-test" });
});
afterAll(async () => {
  await fx?.close();
});

const encoder = new TextEncoder();

describe("publish", () => {
  it("stores an event once even when the same id is published twice", async () => {
    const event = deployRequested("dedup", "v1.0", "ci-dedup-1");
    const first = await fx.bus.publish(event);
    const second = await fx.bus.publish(event);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ seq: first.seq, duplicate: true });
    const stored = await fx.events(".dedup.deploy.requested");
    expect(stored.map((s) => s.event?.id)).toEqual(["ci-dedup-1"]);
  });

  it("emits with this agent's source, on the event's own subject", async () => {
    const { event, seq } = await fx.bus.emit("deploy.requested", {
      service: "emit",
      data: { version: "v2.0" },
    });
    expect(event.source).toBe("bluegreen/coordinator/bus-test");
    const [stored] = await fx.events(".emit.deploy.requested");
    expect(stored).toMatchObject({ seq, subject: "bluegreen.emit.deploy.requested" });
  });

  it("refuses an invalid event before it reaches the stream", async () => {
    const bad = {
      ...deployRequested("refuse", "v1.0"),
      data: { version: "v1;rm -rf /" },
    } as BgEvent;
    await expect(fx.bus.publish(bad)).rejects.toMatchObject({ code: "BG_ERR_VERSION_UNSAFE" });
    expect(await fx.events(".refuse.deploy.requested")).toEqual([]);
  });
});

describe("consume", () => {
  it("delivers a published event to a durable consumer, with its context", async () => {
    const seen: { event: BgEvent<"deploy.requested">; ctx: HandlerContext }[] = [];
    const sub = await fx.bus.consume({
      durable: "happy",
      filters: [filterSubject({ service: "happy", name: "deploy.requested" })],
      expect: ["deploy.requested"],
      handler: (event, ctx) => {
        seen.push({ event, ctx });
      },
    });
    try {
      const event = deployRequested("happy", "v1.1");
      await fx.bus.publish(event);
      await eventually("the event to be handled", () => (seen.length === 1 ? true : undefined));
      expect(seen[0]?.event).toEqual(event);
      expect(seen[0]?.ctx).toMatchObject({
        redelivered: false,
        deliveryCount: 1,
        subject: "bluegreen.happy.deploy.requested",
      });
      expect(sub.consumers).toEqual([consumerName("happy", "bluegreen.happy.deploy.requested")]);
      const jsm = await fx.nc.jetstreamManager();
      const info = await jsm.consumers.info(STREAM_NAME, sub.consumers[0] as string);
      await eventually("the ack to land", async () =>
        (await jsm.consumers.info(STREAM_NAME, info.name)).num_ack_pending === 0 ? true : undefined,
      );
      expect(info.config.durable_name).toBe(info.name);
    } finally {
      await sub.stop();
    }
  });

  it("rejects malformed messages with agent.rejected and keeps delivering", async () => {
    const handled: string[] = [];
    const sub = await fx.bus.consume({
      durable: "strict",
      filters: [filterSubject({ service: "bad", name: "deploy.requested" })],
      expect: ["deploy.requested"],
      handler: (event) => {
        handled.push(event.data.version);
      },
    });
    try {
      const subject = "bluegreen.bad.deploy.requested";
      const good = deployRequested("bad", "v1.0");
      // Raw publishes, as a CI system with any NATS client could make them.
      await fx.bus.js.publish(subject, encoder.encode("this is not json {"));
      await fx.bus.js.publish(
        subject,
        encoder.encode(
          JSON.stringify({ ...deployRequested("bad", "v0.9", "ci-spec-2"), specversion: "0.3" }),
        ),
      );
      await fx.bus.js.publish(
        subject,
        encoder.encode(
          JSON.stringify({ ...good, id: "ci-unsafe-3", data: { version: "v1;rm -rf /" } }),
        ),
      );
      await fx.bus.publish(good);

      await eventually("the good event after the bad ones", () =>
        handled.length === 1 ? true : undefined,
      );
      expect(handled).toEqual(["v1.0"]);

      const rejections = await eventually("three rejections in the stream", async () => {
        const found = await fx.events(".bad.agent.rejected");
        return found.length === 3 ? found : undefined;
      });
      const data = rejections.map((r) =>
        r.event?.type === "bluegreen.agent.rejected" ? r.event.data : undefined,
      );
      expect(data.map((d) => d?.code)).toEqual([
        "BG_ERR_EVENT_MALFORMED_JSON",
        "BG_ERR_EVENT_SPECVERSION",
        "BG_ERR_VERSION_UNSAFE",
      ]);
      expect(data[0]).toMatchObject({
        rejectedBy: "coordinator/bus-test",
        originalSubject: subject,
        excerpt: "this is not json {",
      });
      expect(data[1]?.originalId).toBe("ci-spec-2");
      expect(data[2]).toMatchObject({
        originalId: "ci-unsafe-3",
        originalType: "bluegreen.deploy.requested",
      });
      expect(data[2]?.issues).toContainEqual(expect.objectContaining({ path: "data.version" }));
      expect(rejections.every((r) => r.event?.source === "bluegreen/coordinator/bus-test")).toBe(
        true,
      );

      const warned = fx.logs.records().filter((r) => r.msg === "message rejected");
      expect(warned.map((r) => r.code)).toEqual(
        expect.arrayContaining(["BG_ERR_EVENT_MALFORMED_JSON"]),
      );
    } finally {
      await sub.stop();
    }
  });

  it("files a rejection for a subject without a valid service under `_`", async () => {
    const sub = await fx.bus.consume({
      durable: "anyservice",
      filters: ["bluegreen.*.smoke.passed"],
      expect: ["smoke.passed"],
      handler: () => undefined,
    });
    try {
      await fx.bus.js.publish("bluegreen.Not_A_Service.smoke.passed", encoder.encode("{}"));
      const [rejection] = await eventually("a rejection under _", async () => {
        const found = await fx.events("._.agent.rejected");
        return found.length > 0 ? found : undefined;
      });
      expect(rejection?.subject).toBe("bluegreen._.agent.rejected");
      expect(rejection?.event?.subject).toBe("_");
    } finally {
      await sub.stop();
    }
  });

  it("retries a failing handler with backoff, and rejects a final BgError once", async () => {
    let attempts = 0;
    const sub = await fx.bus.consume({
      durable: "flaky",
      filters: [filterSubject({ service: "flaky", name: "deploy.requested" })],
      expect: ["deploy.requested"],
      nakBackoff: { baseMs: 50, maxMs: 100 },
      handler: (event) => {
        if (event.data.version === "v-final") {
          throw new BgError("BG_ERR_CONFIG_UNKNOWN_SERVICE", { service: "flaky" });
        }
        attempts++;
        if (attempts < 3) throw new Error("transient");
      },
    });
    try {
      await fx.bus.publish(deployRequested("flaky", "v1.0"));
      await eventually("the third attempt", () => (attempts === 3 ? true : undefined));
      await fx.bus.publish(deployRequested("flaky", "v-final", "ci-final-1"));
      const [rejection] = await eventually("the final error as a rejection", async () => {
        const found = await fx.events(".flaky.agent.rejected");
        return found.length > 0 ? found : undefined;
      });
      expect(
        rejection?.event?.type === "bluegreen.agent.rejected" && rejection.event.data,
      ).toMatchObject({
        code: "BG_ERR_CONFIG_UNKNOWN_SERVICE",
        originalId: "ci-final-1",
      });
      expect(fx.logs.records().some((r) => r.msg === "handler failed; will retry")).toBe(true);
    } finally {
      await sub.stop();
    }
  });

  it("keeps a long handler's message from being redelivered (working())", async () => {
    const deliveries: number[] = [];
    const sub = await fx.bus.consume({
      durable: "slow",
      filters: [filterSubject({ service: "slow", name: "deploy.requested" })],
      expect: ["deploy.requested"],
      ackWaitMs: 2_000,
      concurrency: 2,
      handler: async (_event, ctx) => {
        deliveries.push(ctx.deliveryCount);
        await new Promise((resolve) => setTimeout(resolve, 5_000));
      },
    });
    try {
      await fx.bus.publish(deployRequested("slow", "v1.0"));
      await eventually("the handler to start", () => (deliveries.length > 0 ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 5_500));
      expect(deliveries).toEqual([1]);
    } finally {
      await sub.stop();
    }
  });

  it("acks and skips valid events it was not asked for", async () => {
    const handled: string[] = [];
    const sub = await fx.bus.consume({
      durable: "narrow",
      filters: [filterSubject({ service: "narrow" })],
      expect: ["deploy.requested"],
      handler: (event) => {
        handled.push(event.type);
      },
    });
    try {
      await fx.bus.emit("deploy.abort_requested", {
        service: "narrow",
        deploymentId: "d-1",
        data: { by: "alice" },
      });
      await fx.bus.publish(deployRequested("narrow", "v1.0"));
      await eventually("the expected event", () => (handled.length === 1 ? true : undefined));
      expect(handled).toEqual(["bluegreen.deploy.requested"]);
      expect(await fx.events(".narrow.agent.rejected")).toEqual([]);
    } finally {
      await sub.stop();
    }
  });
});
