import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `npm run bench -- <name>`: runs `bench/<name>.ts`, whose default export is an async
 * function. Every bench prints its figures and ends with exactly one JSON line.
 */
const here = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(here);
const available = files
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
  // `<bench>-<part>.ts` beside `<bench>.ts` is a helper of that bench (e2e-guide.ts), not one.
  .filter((f) => !(f.includes("-") && files.includes(`${f.split("-")[0]}.ts`)))
  .map((f) => f.slice(0, -3));
const name = process.argv[2];
if (name === undefined || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join("|")}> [options]`);
  process.exit(2);
}
const mod = (await import(join(here, `${name}.ts`))) as {
  default: (args: string[]) => Promise<void>;
};
await mod.default(process.argv.slice(3));
process.exit(0);
