#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
// Runs the TypeScript sources through tsx, so the monitor needs no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
