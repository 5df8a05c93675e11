import { readFileSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import {
  isProcessAlive,
  makeTempDir,
  type Nginx,
  processGroupMembers,
  type SampleAppHandle,
  startNginx,
  startSampleApp,
  type TempDir,
  waitFor,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The layout a switcher works with: a site config that includes an upstream file it rewrites.
const upstream = (app: SampleAppHandle) => `upstream app_active {\n  server ${app.instance};\n}\n`;

/** A fresh connection per request: a kept-alive one may still reach an old worker after a reload. */
function get(nginx: Nginx, path: string) {
  return new Promise<{ status: number; color: string; body: Record<string, unknown> }>(
    (resolve, reject) => {
      const request = httpGet(`${nginx.url}${path}`, { agent: false }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            color: String(response.headers["x-app-color"]),
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      });
      request.on("error", reject);
    },
  );
}

describe("startNginx", () => {
  let blue: SampleAppHandle;
  let green: SampleAppHandle;
  let configDir: TempDir;
  let nginx: Nginx;
  let upstreamPath: string;

  beforeAll(async () => {
    [blue, green] = await Promise.all([
      startSampleApp({ color: "blue", version: "1.0.0" }),
      startSampleApp({ color: "green", version: "1.1.0" }),
    ]);
    configDir = await makeTempDir("nginx-site");
    upstreamPath = configDir.file("app-active.conf");
    writeFileSync(upstreamPath, upstream(blue));
    nginx = await startNginx({
      configDir: configDir.path,
      siteConfig: ({ host, port }) => `include ${upstreamPath};
server {
  listen ${host}:${port};
  location / {
    proxy_pass http://app_active;
  }
}
`,
    });
  }, 30_000);

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all([blue?.stop(), green?.stop(), configDir?.remove()]);
  });

  it("given an upstream on blue, a request through nginx reaches the blue app", async () => {
    const response = await get(nginx, "/health");
    expect(response.status).toBe(200);
    expect(response.color).toBe("blue");
    expect(response.body).toMatchObject({
      status: "healthy",
      version: "1.0.0",
      instance: blue.instance,
    });
    // nginx writes the access log line once the response is sent: a moment after we read it.
    const logged = await waitFor(
      () => (readFileSync(nginx.accessLogPath, "utf8").includes("GET /health") ? true : undefined),
      { what: "the request in nginx's access log", timeoutMs: 5_000 },
    );
    expect(logged).toBe(true);
  });

  it("passes its own config test, and fails a broken one without touching the running config", async () => {
    expect(nginx.testCommand).toEqual([
      expect.stringMatching(/nginx$/),
      "-p",
      nginx.prefix,
      "-c",
      nginx.confPath,
      "-e",
      nginx.errorLogPath,
      "-t",
    ]);
    const good = await nginx.test();
    expect(good).toMatchObject({ ok: true });
    expect(good.output).toContain("test is successful");

    writeFileSync(upstreamPath, "upstream app_active {\n  server 127.0.0.1:1\n");
    const broken = await nginx.test();
    expect(broken.ok).toBe(false);
    expect(broken.output).toMatch(/\[emerg\]/);
    try {
      // nginx -s reload parses the config itself and refuses.
      await expect(nginx.reload()).rejects.toThrow(/-s reload failed[\s\S]*\[emerg\]/);
      expect((await get(nginx, "/health")).color).toBe("blue");
    } finally {
      writeFileSync(upstreamPath, upstream(blue));
    }
  });

  it("when the upstream file names green and nginx reloads, requests reach green", async () => {
    writeFileSync(upstreamPath, upstream(green));
    expect((await nginx.test()).ok).toBe(true);
    await nginx.reload();
    const response = await get(nginx, "/api/v1/memory");
    expect(response.status).toBe(200);
    expect(response.color).toBe("green");
    expect(response.body).toMatchObject({ version: "1.1.0" });
  });

  it("reports a reload the master rejects after nginx -s reload accepted it", async () => {
    // Valid syntax, but the master cannot bind the new address: only the error log says so.
    const taken = blue.port;
    const site = readFileSync(nginx.siteConfigPath, "utf8");
    writeFileSync(nginx.siteConfigPath, `${site}server { listen 127.0.0.1:${taken}; }\n`);
    try {
      await expect(nginx.reload({ timeoutMs: 1_500 })).rejects.toThrow(
        /replace its workers[\s\S]*emerg/,
      );
    } finally {
      writeFileSync(nginx.siteConfigPath, site);
    }
    expect((await get(nginx, "/health")).status).toBe(200);
  });

  it("leaves no master or worker behind after stop()", async () => {
    const other = await startNginx({ workerProcesses: 2 });
    const workers = other.workerPids();
    expect(workers).toHaveLength(2);
    expect(await (await fetch(other.url)).text()).toBe("nginx ok\n");
    await other.stop();
    for (const pid of [other.masterPid, ...workers]) expect(isProcessAlive(pid)).toBe(false);
    expect(processGroupMembers(other.masterPid)).toEqual([]);
  });

  it("fails to start with the error log in the message when the config is broken", async () => {
    await expect(startNginx({ siteConfig: "server { listen nonsense; }" })).rejects.toThrow(
      /nginx (exited|was killed)[\s\S]*emerg/,
    );
  });
});
