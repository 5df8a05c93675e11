import { readFileSync } from "node:fs";
import { compileMonitorConfig } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";

describe("examples/emily/monitor.yaml", () => {
  it("is a valid monitor config", () => {
    const path = new URL("../../../examples/emily/monitor.yaml", import.meta.url);
    const config = compileMonitorConfig(readFileSync(path, "utf8"), { source: "monitor.yaml" });
    expect(config).toMatchObject({
      role: "monitor",
      services: ["emily"],
      heartbeat_interval: 5_000,
    });
  });
});
