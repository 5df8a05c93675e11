// Given deploy/prometheus/bluegreen-rules.yml: promtool accepts it, its unit tests
// (bluegreen-rules.test.yml) pass, and every metric it alerts on is one an agent really
// exports (the names in packages/*/src/metrics.ts), so a renamed metric cannot silently
// disarm an alert.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, runCommand } from "@bluegreen/testkit";
import { describe, expect, it } from "vitest";

const DIR = join(REPO_ROOT, "deploy/prometheus");

describe("the Prometheus alert rules", () => {
  it("pass promtool check rules", async () => {
    const r = await runCommand("promtool", ["check", "rules", "bluegreen-rules.yml"], { cwd: DIR });
    expect(r.stdout + r.stderr).toContain("SUCCESS: 10 rules found");
    expect(r.code).toBe(0);
  });

  it("pass their unit tests (promtool test rules)", async () => {
    const r = await runCommand("promtool", ["test", "rules", "bluegreen-rules.test.yml"], {
      cwd: DIR,
    });
    expect(r.stdout + r.stderr).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  it("alert only on metrics the agents export", () => {
    const exported = new Set<string>();
    for (const pkg of readdirSync(join(REPO_ROOT, "packages"))) {
      const file = join(REPO_ROOT, "packages", pkg, "src/metrics.ts");
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        continue;
      }
      // `name: "bluegreen_…"` (prom-client's options) or a HELP table's key (runtime's metricsOn)
      for (const m of text.matchAll(/(?:name: "|^\s*)(bluegreen_[a-z_]+)(?:"|:)/gm))
        exported.add(m[1] as string);
    }
    const rules = readFileSync(join(DIR, "bluegreen-rules.yml"), "utf8");
    const used = [...new Set([...rules.matchAll(/\b(bluegreen_[a-z_]+)\b/g)].map((m) => m[1]))];
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((name) => !exported.has(name as string))).toEqual([]);
  });
});
