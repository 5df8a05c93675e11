// Given a durable consumer, when the nats-server restarts, loses the consumer, or loses its
// whole store, then events published afterwards are still delivered.

import { rm } from "node:fs/promises";
import { type BgEvent, filterSubject, STREAM_NAME } from "@bluegreen/contracts";
import {
  type Consumption,
  ensureBuckets,
  putDefinition,
  ServiceDefinitions,
} from "@bluegreen/runtime";
import { startNats } from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  definitionYaml,
  deployRequested,
  eventually,
  type Fixture,
  startFixture,
} from "./helpers.ts";

let fx: Fixture;
let sub: Consumption;
const handled: BgEvent<"deploy.requested">[] = [];
const versions = () => handled.map((e) => e.data.version);

beforeAll(async () => {
  const server = await startNats({ jetstream: true });
  fx = await startFixture({ server, role: "switcher", agentId: "restart-test" });
  sub = await fx.bus.consume({
    durable: "survivor",
    filters: [filterSubject({ name: "deploy.requested" })],
    expect: ["deploy.requested"],
    pullExpiresMs: 2_000,
    handler: (event) => {
      handled.push(event);
    },
  });
});
afterAll(async () => {
  await sub?.stop();
  await fx?.close();
  await fx?.server.stop();
});

async function delivered(version: string): Promise<void> {
  await eventually(
    `${version} to be handled`,
    () => (versions().includes(version) ? true : undefined),
    30_000,
  );
}

describe("a durable consumer", () => {
  it("keeps delivering after the server restarts with its store", async () => {
    await fx.bus.publish(deployRequested("emily", "v1.0"));
    await delivered("v1.0");

    await fx.server.restart();
    await fx.bus.publish(deployRequested("emily", "v1.1"));
    await delivered("v1.1");
    expect(versions()).toEqual(["v1.0", "v1.1"]);
  });

  it("delivers an event published while the server was down, once it is back", async () => {
    await fx.server.kill("SIGKILL");
    const publishing = fx.bus.publish(deployRequested("emily", "v1.2", "ci-during-outage"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fx.server.restart();
    const result = await publishing;
    expect(result.seq).toBeGreaterThan(0);
    await delivered("v1.2");
    expect(versions().filter((v) => v === "v1.2")).toHaveLength(1);
  });

  it("re-creates its consumer when the server lost it, without missing later events", async () => {
    const jsm = await fx.nc.jetstreamManager();
    const [name] = sub.consumers;
    await jsm.consumers.delete(STREAM_NAME, name as string);
    await fx.bus.publish(deployRequested("emily", "v1.3"));
    await delivered("v1.3");
    const info = await jsm.consumers.info(STREAM_NAME, name as string);
    expect(info.config.filter_subject).toBe("bluegreen.*.deploy.requested");
  });

  it("re-creates the stream and the consumer when the server lost its whole store", async () => {
    await fx.server.kill("SIGKILL");
    await rm(fx.server.storeDir as string, { recursive: true, force: true });
    await fx.server.restart();
    await eventually(
      "the stream to be back",
      async () => {
        const jsm = await fx.nc.jetstreamManager();
        return (await jsm.streams.info(STREAM_NAME)).config.deny_delete ? true : undefined;
      },
      30_000,
    );
    await fx.bus.publish(deployRequested("emily", "v1.4"));
    await delivered("v1.4");
    expect(fx.logs.records().some((r) => r.msg === "consumer is gone; creating it again")).toBe(
      true,
    );
    expect(fx.logs.records().some((r) => r.msg === "nats reconnected")).toBe(true);
  });
});

describe("the service definitions watch", () => {
  it("follows changes made after the server restarted", async () => {
    const kv = await ensureBuckets(fx.bus.js, { replicas: 1 });
    await putDefinition(kv.services, definitionYaml("watched", 8000));
    const defs = await ServiceDefinitions.open(kv.services, {
      logger: fx.logs.logger,
      nc: fx.nc,
    });
    try {
      expect(defs.get("watched")?.nodes.blue[0]?.port).toBe(8000);
      await fx.server.restart();
      await eventually(
        "the new definition",
        async () => {
          await putDefinition(kv.services, definitionYaml("watched", 9000)).catch(() => undefined);
          return defs.get("watched")?.nodes.blue[0]?.port === 9000 ? true : undefined;
        },
        30_000,
      );
    } finally {
      await defs.stop();
    }
  });
});
