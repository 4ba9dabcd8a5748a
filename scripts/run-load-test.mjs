#!/usr/bin/env node
// `npm run load -- ...`: builds the apps if needed, then runs the load generator with the given arguments.
// `--pool NAME` without `--url` targets the local stack's pool NAME (npm start -- --pools N): its NLB is read from
// the emulator's pool list and the control plane defaults to the local one.
import { runApp } from './bootstrap.mjs';

const LOCAL_EMULATOR = 'http://127.0.0.1:8086/_emulator/pools';
const LOCAL_CONTROL_PLANE = 'http://127.0.0.1:8090';

/** The value of `--name VALUE` or `--name=VALUE`, if given. */
function option(args, name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

async function localPoolArgs(args) {
  const pool = option(args, 'pool');
  if (pool === undefined || option(args, 'url') !== undefined) return args;
  let pools;
  try {
    const res = await fetch(LOCAL_EMULATOR, { signal: AbortSignal.timeout(3000) });
    pools = (await res.json()).pools;
  } catch {
    console.error(
      `load-test: --pool ${pool} without --url needs the local stack (npm start -- --pools N), whose emulator (${LOCAL_EMULATOR}) does not answer; give --url`,
    );
    process.exit(2);
  }
  const found = pools.find((p) => p.name === pool && p.nlb);
  if (!found) {
    const names = pools.filter((p) => p.nlb).map((p) => p.name);
    console.error(`load-test: the local stack has no pool ${pool} (pools: ${names.join(', ')})`);
    process.exit(2);
  }
  const extra = ['--url', `${found.nlb}/load`];
  if (option(args, 'control-plane') === undefined) extra.push('--control-plane', LOCAL_CONTROL_PLANE);
  return [...args, ...extra];
}

runApp('load-test', await localPoolArgs(process.argv.slice(2)));
