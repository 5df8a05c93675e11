import { filterSubject } from "@bluegreen/contracts";
import { AckPolicy, DeliverPolicy, nanos } from "nats";
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  consumerConfig,
  consumerName,
  consumerUpdates,
  rejectionId,
} from "./consumer-config.ts";

const CONSUMER_NAME = /^[A-Za-z0-9_-]{1,96}$/;

describe("consumerName", () => {
  it("is readable, deterministic and a valid JetStream consumer name", () => {
    const name = consumerName("coordinator", filterSubject({ name: "deploy.requested" }));
    expect(name).toMatch(/^coordinator--any_deploy_requested-[0-9a-f]{8}$/);
    expect(consumerName("coordinator", "bluegreen.*.deploy.requested")).toBe(name);
    expect(name).toMatch(CONSUMER_NAME);
  });

  it("gives each filter of one durable its own consumer", () => {
    const a = consumerName("switcher-1", "bluegreen.*.switch.requested");
    const b = consumerName("switcher-1", "bluegreen.emily.>");
    expect(a).not.toBe(b);
    expect(b).toMatch(/^switcher-1--emily_all-/);
  });

  it("keeps pairs that read alike apart by the hash", () => {
    expect(consumerName("a.b", "bluegreen.x.>")).not.toBe(consumerName("a_b", "bluegreen.x.>"));
  });

  it("makes names safe and bounded whatever the durable", () => {
    const name = consumerName("node-agent.emily green/*>".repeat(10), "bluegreen.*.deploy.*");
    expect(name).toMatch(CONSUMER_NAME);
  });
});

describe("consumerConfig", () => {
  const base = {
    name: "n",
    filter: "bluegreen.*.deploy.started",
    ackWaitMs: 30_000,
    maxDeliver: 5,
  };

  it("is a durable pull consumer with explicit acks on one filter subject", () => {
    const cfg = consumerConfig({ ...base, deliver: "new" });
    expect(cfg).toMatchObject({
      durable_name: "n",
      name: "n",
      filter_subject: "bluegreen.*.deploy.started",
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
      max_deliver: 5,
      deliver_policy: DeliverPolicy.New,
    });
    expect(cfg).not.toHaveProperty("filter_subjects");
    expect(cfg).not.toHaveProperty("deliver_subject");
  });

  it("maps the deliver policies", () => {
    expect(consumerConfig({ ...base, deliver: "all" }).deliver_policy).toBe(DeliverPolicy.All);
    const at = new Date("2026-11-26T10:00:00.000Z");
    expect(consumerConfig({ ...base, deliver: { startTime: at } })).toMatchObject({
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: "2026-11-26T10:00:00.000Z",
    });
  });

  it("updates only what changed and never the deliver policy", () => {
    const current = consumerConfig({ ...base, deliver: "all" });
    const wanted = consumerConfig({ ...base, deliver: "new", ackWaitMs: 60_000 });
    expect(consumerUpdates(current, wanted)).toEqual({ ack_wait: nanos(60_000) });
    expect(consumerUpdates(wanted, wanted)).toBeUndefined();
  });
});

describe("backoffDelay", () => {
  it("doubles from the base up to the cap", () => {
    const exact = (n: number) => backoffDelay(n, { baseMs: 1_000, maxMs: 30_000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6, 7].map(exact)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
  });

  it("keeps the jitter inside its share of the delay", () => {
    expect(backoffDelay(3, { baseMs: 1_000, jitter: 0.2 }, () => 0)).toBe(3_200);
    expect(backoffDelay(3, { baseMs: 1_000, jitter: 0.2 }, () => 1)).toBe(4_000);
  });

  it("treats attempt 0 and below as the first", () => {
    expect(backoffDelay(0, { baseMs: 500, jitter: 0 })).toBe(500);
  });
});

describe("rejectionId", () => {
  it("is a valid event id, the same for a redelivery", () => {
    const id = rejectionId("coordinator--any_deploy_requested-1a2b3c4d", 42);
    expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/);
    expect(rejectionId("coordinator--any_deploy_requested-1a2b3c4d", 42)).toBe(id);
    expect(rejectionId("coordinator--any_deploy_requested-1a2b3c4d", 43)).not.toBe(id);
  });
});
