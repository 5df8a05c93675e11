import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ERROR_CODES, EVENT_NAMES } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { renderDocs } from "./render.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const STALE = "is stale: run `npm run gen` and commit the result";

describe("generated reference docs", () => {
  it("docs/errors.md lists exactly the codes of the catalogue", () => {
    const documented = [...read("docs/errors.md").matchAll(/^\| `(BG_ERR_[A-Z_]+)` \|/gm)].map(
      (m) => m[1],
    );
    expect(documented.sort()).toEqual([...ERROR_CODES].sort());
  });

  it("docs/events.md documents every event and no other", () => {
    const documented = [...read("docs/events.md").matchAll(/^### `([a-z_]+\.[a-z_]+)`$/gm)].map(
      (m) => m[1],
    );
    expect(documented.sort()).toEqual([...EVENT_NAMES].sort());
  });

  it("every generated file matches what is committed", () => {
    for (const [path, content] of renderDocs()) {
      expect(read(path), `${path} ${STALE}`).toBe(content);
    }
  });

  it("docs/schemas holds no schema that is no longer generated", () => {
    const expected = new Set(renderDocs().keys());
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
      );
    for (const file of walk(join(root, "docs/schemas"))) {
      expect(expected.has(relative(root, file)), `${relative(root, file)} ${STALE}`).toBe(true);
    }
  });
});
