#!/usr/bin/env -S node --no-turbofan
// Runs the built JavaScript (`npm run build`) with plain node; the suites run the sources.
import "../dist/main.js";
