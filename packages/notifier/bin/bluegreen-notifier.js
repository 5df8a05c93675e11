#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
