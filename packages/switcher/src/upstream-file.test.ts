import { describe, expect, it } from "vitest";
import { fixtureDefinition } from "./test-fixture.ts";
import {
  colorOfFile,
  generationOfFile,
  nginxAddress,
  renderUpstream,
  serversIn,
} from "./upstream-file.ts";

const def = fixtureDefinition();

describe("renderUpstream", () => {
  it("lists every node of the colour under the upstream name, with the managed header", () => {
    expect(renderUpstream(def, "blue", "g1")).toBe(
      [
        "# managed by bluegreen-switcher: service=emily color=blue",
        "# Written atomically by the switcher; edits by hand are reported as drift at its start.",
        "upstream emily_active {",
        "    server 10.0.0.10:8000;",
        "    server 10.0.0.12:8000;",
        "}",
        "map $host $bluegreen_emily_active_generation {",
        '    default "g1";',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("adds keepalive only when the definition asks for it", () => {
    expect(renderUpstream(def, "green", "g1")).not.toContain("keepalive");
    expect(renderUpstream(fixtureDefinition({ keepalive: 16 }), "green", "g1")).toContain(
      "    keepalive 16;\n}",
    );
  });

  it("carries a generation that can be read back, and refuses one nginx could misread", () => {
    const text = renderUpstream(def, "green", "mbx3k2-1f0c9a");
    expect(generationOfFile(text, "emily_active")).toBe("mbx3k2-1f0c9a");
    expect(generationOfFile(text, "other_active")).toBeUndefined();
    expect(
      generationOfFile("upstream emily_active { server 10.0.0.11:8000; }", "emily_active"),
    ).toBeUndefined();
    expect(() => renderUpstream(def, "green", 'x"; evil')).toThrow(/bad generation/);
  });

  it("brackets IPv6 addresses", () => {
    expect(nginxAddress({ host: "::1", port: 8000 })).toBe("[::1]:8000");
    expect(nginxAddress({ host: "127.0.0.1", port: 80 })).toBe("127.0.0.1:80");
  });
});

describe("colorOfFile", () => {
  it("reads back the colour of every rendered file", () => {
    for (const color of ["blue", "green"] as const) {
      expect(colorOfFile(renderUpstream(def, color, "g1"), def)).toEqual({ color, by: "header" });
    }
  });

  it("believes the server lines over a stale header (a hand edit)", () => {
    const edited = renderUpstream(def, "blue", "g1").replace(
      /server 10\.0\.0\.10:8000;\n\s+server 10\.0\.0\.12:8000;/,
      "server 10.0.0.11:8000;",
    );
    expect(colorOfFile(edited, def)).toEqual({ color: "green", by: "servers" });
  });

  it("reads a hand-written file without a header by its servers, in any order", () => {
    const text =
      "upstream emily_active {\n  server 10.0.0.12:8000 max_fails=3;\n  server 10.0.0.10:8000;\n}\n";
    expect(serversIn(text)).toEqual(["10.0.0.12:8000", "10.0.0.10:8000"]);
    expect(colorOfFile(text, def)).toEqual({ color: "blue", by: "servers" });
  });

  it("falls back to the header when the nodes changed since the file was written", () => {
    const old = renderUpstream(def, "green", "g1").replace("10.0.0.11", "10.0.0.99");
    expect(colorOfFile(old, def)).toEqual({ color: "green", by: "header" });
  });

  it("cannot tell the colour of a file listing other servers, or a partial set", () => {
    expect(colorOfFile("upstream x { server 1.2.3.4:5; }", def)).toEqual({
      color: null,
      by: "none",
    });
    const partial = "upstream emily_active {\n server 10.0.0.10:8000;\n}\n";
    expect(colorOfFile(partial, def).color).toBeNull();
    expect(colorOfFile("", def).color).toBeNull();
  });

  it("ignores a header written for another service", () => {
    const other = renderUpstream(def, "green", "g1")
      .replace("service=emily", "service=other")
      .replace("10.0.0.11", "10.0.0.99");
    expect(colorOfFile(other, def).color).toBeNull();
  });
});
