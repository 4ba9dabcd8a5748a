#!/usr/bin/env node
// `npm run load -- ...`: builds the apps if needed, then runs the load generator with the given arguments.
import { runApp } from './bootstrap.mjs';

runApp('load-test', process.argv.slice(2));
