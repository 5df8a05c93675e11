import { describe, expect, it } from "vitest";
import { parseRequestLine, WindowFold } from "./request-log.ts";

const line = (o: Record<string, string>) => `<190>Dec  4 20:36:00 bluegreen: ${JSON.stringify(o)}`;

describe("the request-log reader", () => {
  it("reads nginx's JSON line out of a syslog datagram", () => {
    expect(
      parseRequestLine(
        line({ upstream: "127.0.0.1:8001", status: "200", rt: "0.004", msec: "1.2", probe: "" }),
      ),
    ).toEqual({ upstream: "127.0.0.1:8001", status: "200", seconds: 0.004, probe: false });
  });

  it("takes the last upstream of a retried request, and marks probes", () => {
    expect(
      parseRequestLine(
        line({
          upstream: "10.0.0.1:80, 10.0.0.2:80",
          status: "502",
          rt: "0.001, 0.002",
          probe: "d-1",
        }),
      ),
    ).toEqual({ upstream: "10.0.0.2:80", status: "502", seconds: 0.002, probe: true });
  });

  it("skips what is not a proxied request", () => {
    expect(parseRequestLine("hello")).toBeUndefined();
    expect(parseRequestLine(line({ upstream: "-", status: "404" }))).toBeUndefined();
    expect(parseRequestLine(line({ upstream: "127.0.0.1:1", status: "x" }))).toBeUndefined();
    expect(
      parseRequestLine(line({ upstream: "127.0.0.1:1", status: "200", rt: "-" }))?.seconds,
    ).toBeUndefined();
  });

  it("folds a window per upstream, real and probe apart, and starts afresh", () => {
    const fold = new WindowFold();
    fold.add({ upstream: "a:1", status: "200", seconds: 0.01, probe: false });
    fold.add({ upstream: "a:1", status: "500", seconds: 0.02, probe: false });
    fold.add({ upstream: "a:1", status: "200", seconds: undefined, probe: true });
    const w = fold.take("emily", "switcher-1", 0, 100);
    expect(w.upstreams["a:1"]).toEqual({
      real: { statuses: { 200: 1, 500: 1 }, latencies: [0.01, 0.02] },
      probe: { statuses: { 200: 1 }, latencies: [] },
    });
    expect(fold.take("emily", "switcher-1", 100, 200).upstreams).toEqual({});
  });
});
