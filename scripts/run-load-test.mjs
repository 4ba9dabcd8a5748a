#!/usr/bin/env node
// `npm run load -- ...`: builds the apps if needed, then runs the load generator with the given arguments.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { ensureBuilt } from './local-stack.mjs';

ensureBuilt((line) => console.error(line));
const result = spawnSync(
  process.execPath,
  [join(import.meta.dirname ?? '.', '../dist/apps/load-test/main.js'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
