#!/usr/bin/env node
// The bundle `npm run build` writes (the CLI and the agents in one file, no dependencies).
import "../dist/bluegreen.cjs";
