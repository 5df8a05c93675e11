import { describe, expect, it } from "vitest";
import { killGroupCommand, PidMarkerFilter } from "./pid-marker.ts";

const feedAll = (filter: PidMarkerFilter, parts: string[]) =>
  parts.map((p) => filter.feed(Buffer.from(p)).toString()).join("") + filter.flush().toString();

describe("PidMarkerFilter", () => {
  it("takes the marker out and keeps the rest of stderr", () => {
    const filter = new PidMarkerFilter();
    expect(feedAll(filter, ["bluegreen-step-pid 4242\nwarning: x\n"])).toBe("warning: x\n");
    expect(filter.pid).toBe(4242);
  });

  it("finds a marker split across chunks, after noise from a login script", () => {
    const filter = new PidMarkerFilter();
    expect(feedAll(filter, ["pyenv: noise\nbluegreen-st", "ep-pid 77", "\nerror: failed"])).toBe(
      "pyenv: noise\nerror: failed",
    );
    expect(filter.pid).toBe(77);
  });

  it("passes everything through when there is no marker", () => {
    const filter = new PidMarkerFilter();
    expect(feedAll(filter, ["a\n", "b"])).toBe("a\nb");
    expect(filter.pid).toBeUndefined();
  });

  it("keeps binary output intact", () => {
    const filter = new PidMarkerFilter();
    const bytes = Buffer.from([0xff, 0x00, 0xc3, 0xa9, 0x0a]);
    filter.feed(Buffer.from("bluegreen-step-pid 5\n"));
    expect(filter.feed(bytes).equals(bytes)).toBe(true);
  });
});

describe("killGroupCommand", () => {
  it("signals the negative pid (the group)", () => {
    expect(killGroupCommand(4242, "TERM")).toBe("kill -s TERM -- -4242 2>/dev/null; true");
  });
  it("refuses pids that would hit everything", () => {
    expect(() => killGroupCommand(1, "KILL")).toThrow(RangeError);
    expect(() => killGroupCommand(0, "KILL")).toThrow(RangeError);
    expect(() => killGroupCommand(-5, "KILL")).toThrow(RangeError);
  });
});
