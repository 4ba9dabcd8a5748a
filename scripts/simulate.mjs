#!/usr/bin/env node
// `npm run simulate -- ...`: builds the apps if needed (build output on stderr), then runs the scaling simulator.
import { runApp } from './bootstrap.mjs';

runApp('scaling-sim', process.argv.slice(2));
