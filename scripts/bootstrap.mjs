// The one piece of plain JavaScript the commands need before anything is built: install the dependencies and
// build the apps when they are missing or older than their sources. Output goes to stderr, so a command's own
// stdout (e.g. simulate --json) stays clean.
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
const APPS = ['control-plane', 'exoscale-emulator', 'slow-web', 'load-test', 'scaling-sim', 'local-stack'];

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'test' || entry.endsWith('.spec.ts')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

export function ensureBuilt(log = (line) => console.error(line)) {
  if (!existsSync(join(ROOT, 'node_modules/.bin/nest'))) {
    log('installing the dependencies (npm ci) ...');
    const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: [0, 2, 2] });
    if (install.status !== 0) throw new Error('npm ci failed');
  }
  const mains = APPS.map((app) => join(ROOT, 'dist/apps', app, 'main.js'));
  const sources = Math.max(newestMtime(join(ROOT, 'apps')), newestMtime(join(ROOT, 'libs')));
  if (!mains.some((m) => !existsSync(m) || statSync(m).mtimeMs < sources)) return;
  log('building the apps (npm run build) ...');
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: [0, 2, 2] });
  if (result.status !== 0) throw new Error('the build failed: fix it and run the command again');
  // webpack leaves an unchanged bundle untouched; mark every one as built now, so the next run does not rebuild.
  const now = new Date();
  for (const main of mains) if (existsSync(main)) utimesSync(main, now, now);
}

/** Builds if needed, then runs a built app with the given arguments, passing signals on and its exit code back. */
export function runApp(app, args) {
  try {
    ensureBuilt();
  } catch (error) {
    console.error(`${app}: ${error.message}`);
    process.exit(1);
  }
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps', app, 'main.js'), ...args], {
    stdio: 'inherit',
  });
  // A signal sent to this process (not only Ctrl-C, which reaches the whole group) reaches the app too.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}
