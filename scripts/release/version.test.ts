import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { rootVersion } from "./paths.ts";
import { versionInSource, workspaceManifests } from "./version.ts";

describe("the version, set once in the root package.json", () => {
  it("is the one packages/runtime/src/version.ts exports (npm run gen writes it)", () => {
    expect(versionInSource()).toBe(rootVersion());
  });

  it.each(workspaceManifests())("is the version of %s", (path) => {
    expect((JSON.parse(readFileSync(path, "utf8")) as { version: string }).version).toBe(
      rootVersion(),
    );
  });
});
