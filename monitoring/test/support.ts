import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { parse as parseYaml } from 'yaml';

export const ROOT = resolve(__dirname, '../..');

export const readYaml = <T = Record<string, unknown>>(path: string): T =>
  parseYaml(readFileSync(resolve(ROOT, path), 'utf8')) as T;

/** Runs a validator from Debian's packages; its exit status and output. */
export function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.error)
    throw new Error(
      `${command} is not installed (bash scripts/setup.sh installs it): ${result.error.message}`,
    );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Writes the local stack's generated configs into `dir` with the launcher's own code. */
export function generateLocalConfigs(
  dir: string,
  mode: 'normal' | 'fast',
): { prometheusFile: string; rulesFile: string; alertmanagerFile: string } {
  const script = `import('./scripts/local-stack.mjs').then((m) => process.stdout.write(JSON.stringify(m.generateConfigs(${JSON.stringify(dir)}, m.TIMINGS.${mode}, ${JSON.stringify(join(dir, 'sd'))}))))`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' }));
}
