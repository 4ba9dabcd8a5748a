#!/usr/bin/env node
// `npm start -- [options]`: installs and builds if needed, then runs the local stack (apps/local-stack).
import { runApp } from './bootstrap.mjs';

runApp('local-stack', process.argv.slice(2));
