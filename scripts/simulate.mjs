#!/usr/bin/env node
// `npm run simulate -- ...`: builds the apps if needed (build output on stderr), then runs the scaling simulator.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { ensureBuilt } from './local-stack.mjs';

ensureBuilt((line) => console.error(line));
const result = spawnSync(
  process.execPath,
  [join(import.meta.dirname ?? '.', '../dist/apps/scaling-sim/main.js'), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
