#!/usr/bin/env node
// Runs the built JavaScript (`npm run build`) with plain node; the suites run the sources.
import "../dist/main.js";
