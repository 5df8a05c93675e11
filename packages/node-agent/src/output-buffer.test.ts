import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OutputBuffer, tailOf } from "./output-buffer.ts";

describe("OutputBuffer", () => {
  it("keeps everything below the limit", () => {
    const buf = new OutputBuffer(16);
    buf.append("hello ");
    buf.append(Buffer.from("world"));
    expect(buf.text()).toBe("hello world");
    expect(buf.droppedBytes).toBe(0);
  });

  it("keeps only the last bytes once the limit is passed", () => {
    const buf = new OutputBuffer(8);
    buf.append("0123456789");
    buf.append("abc");
    expect(buf.text()).toBe("56789abc");
    expect(buf.length).toBe(8);
    expect(buf.droppedBytes).toBe(5);
  });

  it("never holds more than its limit, whatever is appended (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 40 })),
        fc.integer({ min: 1, max: 64 }),
        (parts, limit) => {
          const buf = new OutputBuffer(limit);
          for (const p of parts) buf.append(p);
          const all = Buffer.from(parts.join(""));
          expect(buf.length).toBe(Math.min(limit, all.length));
          expect(buf.length + buf.droppedBytes).toBe(all.length);
        },
      ),
    );
  });

  it("does not start with a broken multi-byte character", () => {
    const buf = new OutputBuffer(5);
    buf.append("ééé"); // 6 bytes
    expect(buf.text()).toBe("éé");
  });
});

describe("tailOf", () => {
  it("returns the last characters, trailing whitespace trimmed", () => {
    expect(tailOf("line1\nline2\n\n", 5)).toBe("line2");
    expect(tailOf("short\n")).toBe("short");
  });
  it("never cuts a surrogate pair in half", () => {
    expect(tailOf("a😀b", 2)).toBe("b");
  });
});
