import { parseArgs } from 'node:util';

import { SlowWeb } from './slow-web';

/** A local pool member. SIGUSR1 makes /health answer 503, SIGUSR2 OK again (fault injection); SIGTERM stops it. */
function main(): void {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8080' },
      'metrics-port': { type: 'string', default: '9100' },
      'load-seconds': { type: 'string', default: '10' },
    },
  });
  const port = Number(values.port);
  const metricsPort = Number(values['metrics-port']);
  const loadSeconds = Number(values['load-seconds']);
  for (const [name, v] of [
    ['--port', port],
    ['--metrics-port', metricsPort],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 65535) fail(`${name} must be a port number`);
  }
  if (!(loadSeconds > 0)) fail('--load-seconds must be a positive number');
  const app = new SlowWeb({ host: values.host!, port, metricsPort, loadSeconds });
  app.listen().then(
    () => process.stdout.write(`slow-web listening on ${values.host}:${port} (metrics :${metricsPort})\n`),
    (error: Error) => fail(`cannot listen: ${error.message}`),
  );
  process.on('SIGUSR1', () => (app.healthy = false));
  process.on('SIGUSR2', () => (app.healthy = true));
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function fail(message: string): never {
  process.stderr.write(`slow-web: ${message}\n`);
  process.exit(1);
}

main();
