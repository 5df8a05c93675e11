import { readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import {
  freePort,
  isProcessAlive,
  makeTempDir,
  runCommand,
  SAMPLE_APP_CTL,
  type SampleAppHandle,
  startSampleApp,
  type TempDir,
  waitFor,
} from "@bluegreen/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startedForSuite } from "../suite.ts";

describe("startSampleApp", () => {
  let app: SampleAppHandle;
  startedForSuite(
    () => startSampleApp({ color: "green", version: "1.2.3" }),
    (started) => {
      app = started;
    },
  );

  afterEach(async () => {
    await app.setFaults({ errorRate: 0, latencyMs: 0, healthFail: false });
  });

  it("reports healthy with its version, colour and instance", async () => {
    const response = await fetch(`${app.url}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-app-version")).toBe("1.2.3");
    expect(response.headers.get("x-app-color")).toBe("green");
    expect(await response.json()).toEqual({
      status: "healthy",
      version: "1.2.3",
      color: "green",
      instance: app.instance,
    });
  });

  it("passes the guide's smoke tests", async () => {
    const inference = await fetch(`${app.url}/api/v1/inference`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "test" }),
    });
    expect(inference.status).toBe(200);
    expect(await inference.json()).toMatchObject({ version: "1.2.3", color: "green" });
    const memory = await fetch(`${app.url}/api/v1/memory`);
    expect(memory.status).toBe(200);
    expect(memory.headers.get("x-app-color")).toBe("green");
  });

  it("exposes request counts and latencies, without its own scrapes", async () => {
    await fetch(`${app.url}/metrics`);
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toMatch(/^http_requests_total\{method="GET",path="\/health",status="200"\} \d+$/m);
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.005"');
    expect(text).toContain('http_request_duration_seconds_bucket{le="10"');
    expect(text).not.toContain('path="/metrics"');
  });

  it("when errorRate is set to 1 at run time, the API answers 500 and /health stays 200", async () => {
    expect(await app.setFaults({ errorRate: 1 })).toEqual({
      errorRate: 1,
      latencyMs: 0,
      healthFail: false,
    });
    for (const path of ["/api/v1/memory", "/api/v1/memory", "/nope"]) {
      expect((await fetch(`${app.url}${path}`)).status).toBe(500);
    }
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(
      /http_requests_total\{method="GET",path="\/api\/v1\/memory",status="500"\} 2/,
    );
  });

  it("when health failure and latency are injected, /health is slow and 503", async () => {
    await app.setFaults({ healthFail: true, latencyMs: 150 });
    expect(await app.getFaults()).toEqual({ errorRate: 0, latencyMs: 150, healthFail: true });
    const started = performance.now();
    const response = await fetch(`${app.url}/health`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: "unhealthy", reason: "injected" });
  });

  it("rejects invalid faults", async () => {
    await expect(app.setFaults({ errorRate: 3 })).rejects.toThrow(/400/);
  });

  it("given a slow start, /health is 503 until it has passed", async () => {
    const slow = await startSampleApp({ color: "blue", version: "1.0.0", slowStartMs: 1_000 });
    try {
      expect((await fetch(`${slow.url}/health`)).status).toBe(503);
      await waitFor(
        async () => ((await fetch(`${slow.url}/health`)).status === 200 ? true : undefined),
        {
          what: "the slow start to end",
          timeoutMs: 5_000,
        },
      );
    } finally {
      await slow.stop();
    }
    expect(isProcessAlive(slow.pid)).toBe(false);
  });
});

describe("sample-app-ctl", () => {
  let dir: TempDir;
  const ctl = (...args: string[]) => runCommand(SAMPLE_APP_CTL, args, { timeoutMs: 20_000 });

  beforeAll(async () => {
    dir = await makeTempDir("sample-app-ctl");
  });

  afterAll(async () => {
    await ctl("stop", "--dir", dir.path);
    await dir.remove();
  });

  async function health(port: number) {
    return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<
      string,
      unknown
    >;
  }

  it("stops, re-versions and starts the app in a work dir", async () => {
    const port = await freePort();
    expect(await ctl("set-version", "--dir", dir.path, "1.0.0")).toMatchObject({ code: 0 });
    const first = await ctl("start", "--dir", dir.path, "--port", String(port), "--color", "blue");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const firstPid = (JSON.parse(first.stdout) as { pid: number }).pid;
    expect(readFileSync(dir.file("app.pid"), "utf8").trim()).toBe(String(firstPid));
    expect(await health(port)).toMatchObject({
      status: "healthy",
      version: "1.0.0",
      color: "blue",
    });
    expect(await ctl("status", "--dir", dir.path)).toMatchObject({ code: 0 });

    expect(await ctl("stop", "--dir", dir.path)).toMatchObject({ code: 0 });
    expect(isProcessAlive(firstPid)).toBe(false);
    expect(await ctl("set-version", "--dir", dir.path, "1.1.0")).toMatchObject({ code: 0 });
    expect(readFileSync(dir.file("VERSION"), "utf8")).toBe("1.1.0\n");
    const second = await ctl("start", "--dir", dir.path, "--port", String(port), "--color", "blue");
    expect(second.code).toBe(0);
    expect(await health(port)).toMatchObject({ version: "1.1.0" });

    expect(await ctl("stop", "--dir", dir.path)).toMatchObject({ code: 0 });
    expect(await ctl("stop", "--dir", dir.path)).toMatchObject({ code: 0 });
    const status = await ctl("status", "--dir", dir.path);
    expect(status.code).toBe(3);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false, version: "1.1.0" });
  });

  it("refuses an unsafe version", async () => {
    const result = await ctl("set-version", "--dir", dir.path, "../../etc/passwd");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid version/);
  });

  it("fails with the log tail when the app cannot listen", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      await ctl("set-version", "--dir", dir.path, "1.0.0");
      const result = await ctl(
        "start",
        "--dir",
        dir.path,
        "--port",
        String(port),
        "--color",
        "green",
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/exited \(exit code 1\) before listening[\s\S]*EADDRINUSE/);
      expect((await ctl("status", "--dir", dir.path)).code).toBe(3);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
