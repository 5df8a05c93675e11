#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1 --no-turbofan
// Runs the built JavaScript (`npm run build`) with plain node; the suites run the sources.
import "../dist/main.js";
