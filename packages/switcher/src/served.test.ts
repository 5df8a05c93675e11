import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Color } from "@bluegreen/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servedColor } from "./adapters.ts";
import type { NodesSpec } from "./verify.ts";

// What nginx serves, as the running drift check looks at it: an HTTP server answering the
// verify URL with the colours given to it, one per request, counting the looks.

const DEF: NodesSpec = {
  nodes: {
    blue: [{ host: "127.0.0.1", port: 9001 }],
    green: [{ host: "127.0.0.1", port: 9002 }],
  },
} as NodesSpec;

let server: Server;
let url: string;
let answers: (Color | "none")[] = [];
let looks = 0;
/** Ms each answer waits before it is sent; `answered` counts those sent. */
let delayMs = 0;
let answered = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    const color = answers[Math.min(looks, answers.length - 1)] ?? "none";
    looks++;
    const send = () => {
      if (res.destroyed) return;
      answered++;
      res.writeHead(200, color === "none" ? {} : { "x-app-color": color });
      res.end("{}");
    };
    if (delayMs > 0) setTimeout(send, delayMs).unref();
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function serve(...colors: (Color | "none")[]) {
  answers = colors;
  looks = 0;
  delayMs = 0;
  answered = 0;
}

describe("the colour nginx serves, for the running drift check", () => {
  it("takes a first answer from the recorded colour at once (one look: no drift to confirm)", async () => {
    serve("blue");
    expect(await servedColor(url, DEF, { expected: "blue" })).toBe("blue");
    expect(looks).toBe(1);
  });

  it("confirms another colour with three looks before calling it served", async () => {
    serve("green");
    expect(await servedColor(url, DEF, { expected: "blue" })).toBe("green");
    expect(looks).toBe(3);
  });

  it("tells nothing when the looks disagree (an old worker after a reload) or name no colour", async () => {
    serve("green", "blue");
    expect(await servedColor(url, DEF, { expected: "blue" })).toBeNull();
    expect(looks).toBe(2);
    serve("none");
    expect(await servedColor(url, DEF, { expected: "blue" })).toBeNull();
    expect(looks).toBe(1);
  });

  it("ends the looks with 'tells nothing' when a switch is waiting (the signal aborts)", async () => {
    serve("green");
    const waiting = new AbortController();
    const looked = servedColor(url, DEF, { expected: "blue", signal: waiting.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    waiting.abort();
    expect(await looked).toBeNull();
    expect(looks).toBe(1);
  });

  it("ends a look still waiting for nginx's answer when a switch is waiting", async () => {
    serve("blue");
    delayMs = 1_500;
    const waiting = new AbortController();
    const looked = servedColor(url, DEF, { expected: "blue", signal: waiting.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    waiting.abort();
    expect(await looked).toBeNull();
    expect(answered).toBe(0); // it did not wait for the answer
  });

  it("without an expected colour, looks three times", async () => {
    serve("blue");
    expect(await servedColor(url, DEF)).toBe("blue");
    expect(looks).toBe(3);
  });
});
