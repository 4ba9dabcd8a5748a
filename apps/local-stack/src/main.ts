import { join, resolve } from 'node:path';

import { awaitLeader, describeLeadership } from './leadership';
import { OptionError, parseOptions, StackOptions, USAGE } from './options';
import { StackError } from './readiness';
import { RunningStack, startStack } from './stack';
import { PORTS } from './timings';

// The local stack (docs/architecture.md §6): an emulated Exoscale zone with its NLB, the control plane, Prometheus
// and Alertmanager, on loopback, until Ctrl-C. `npm start` runs it through scripts/start.mjs, which installs and
// builds first.
const ROOT = resolve(__dirname, '../../..');

async function main(): Promise<void> {
  let options: StackOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2), ROOT);
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    process.stderr.write(`local-stack: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }

  // Signals during start-up stop what has started so far; afterwards they stop the whole stack.
  const interrupted = new AbortController();
  let onSignal: (signal: NodeJS.Signals) => void = () => interrupted.abort();
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  let stack: RunningStack;
  try {
    stack = await startStack(ROOT, options, { signal: interrupted.signal });
  } catch (error) {
    process.stderr.write(
      `local-stack: ${error instanceof StackError ? error.message : ((error as Error)?.stack ?? String(error))}\n`,
    );
    process.exit(interrupted.signal.aborted ? 130 : 1);
  }
  const width = Math.max(...Object.keys(stack.urls).map((k) => k.length));
  const mode = [
    options.fast ? '--fast' : '',
    stack.pools
      ? `${stack.pools.length} pools (${stack.pools.map((p) => p.name).join(', ')}), each ${options.size} within ${options.min}..${options.max}`
      : `pool ${options.size} within ${options.min}..${options.max}`,
    `policy ${options.policy}`,
    stack.postgres ? `${stack.controlPlanes.length} control planes on PostgreSQL` : '',
  ]
    .filter(Boolean)
    .join(', ');
  console.log(`\nLocal autoscaling stack is up (${mode}):`);
  for (const [name, url] of Object.entries(stack.urls)) console.log(`  ${name.padEnd(width)}  ${url}`);
  if (stack.postgres) {
    // The leader may still be taking the lease: wait up to a lease period (and a retry) for one to lead.
    const { lease } = stack.timing;
    const { answers, problems } = await awaitLeader(
      stack.controlPlanes,
      (lease.durationSeconds + lease.retryPeriodSeconds) * 1000,
    );
    console.log('\nLeadership:');
    for (const answer of answers) console.log(`  ${describeLeadership(answer)}`);
    for (const problem of problems) console.log(`  (not settled yet: ${problem})`);
    console.log(
      'Kill the leader (kill -9 <pid>) to see the other take over: the launcher starts a killed replica again once ' +
        'its lease has run out, and one that lost its lease (exit 75) at once.',
    );
  }
  if (stack.pools) {
    console.log(
      `\nPut load on one pool:  npm run load -- --pool ${stack.pools[0].name} --clients 8 --duration 300`,
    );
    console.log(
      `  (the same as: npm run load -- --url http://127.0.0.1:${stack.pools[0].nlbPort}/load --control-plane http://127.0.0.1:${PORTS.controlPlane} --pool ${stack.pools[0].name} ...)`,
    );
  } else {
    console.log(
      `\nPut load on it:  npm run load -- --url http://127.0.0.1:${PORTS.nlb}/load --clients 8 --duration 300 --control-plane http://127.0.0.1:${PORTS.controlPlane} --report load-report.html`,
    );
  }
  console.log('Stop with Ctrl-C.\n');
  let stopping = false;
  onSignal = (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping every process ...`);
    void stack.stop().then(() => {
      console.log('stopped.');
      process.exit(0);
    });
  };
  const died = await stack.exited;
  process.stderr.write(
    `local-stack: ${died.name} exited unexpectedly (${died.code ?? died.signal}); see ${join(stack.dir, 'logs', `${died.name}.log`)}\n`,
  );
  await stack.stop();
  process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`local-stack: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
