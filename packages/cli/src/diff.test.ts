import { describe, expect, it } from "vitest";
import { diffChanges, lineDiff } from "./diff.ts";

describe("lineDiff", () => {
  it("shows kept, removed and added lines in order", () => {
    const out = lineDiff("a\nb\nc\n", "a\nx\nc\nd\n");
    expect(out).toEqual(["  a", "+ x", "- b", "  c", "+ d"]);
    expect(diffChanges(out)).toBe(true);
  });

  it("same text: nothing changes", () => {
    expect(diffChanges(lineDiff("a\nb\n", "a\nb\n"))).toBe(false);
  });

  it("from nothing: every line added", () => {
    expect(lineDiff("", "a\nb")).toEqual(["+ a", "+ b"]);
  });
});
