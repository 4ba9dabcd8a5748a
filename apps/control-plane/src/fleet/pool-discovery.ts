import { rm } from 'node:fs/promises';

import { Logger } from '@nestjs/common';

import { FleetConfig, labelledPool, poolSettings, PoolDiscoveryConfig } from '../config/fleet-config';
import { SettingsError } from '../config/settings';
import { poolKey } from '../ha/ha';
import type { Fleet } from './fleet.service';
import type { PoolScope } from './pool-scope';

export interface PoolDiscoveryStatus {
  lastSuccessAt: Date | null;
  lastError: string | null;
  /** Labelled pools that cannot be managed, each with the reason. */
  problems: string[];
  /** Pools managed because of their labels. */
  discovered: string[];
}

/**
 * Label discovery (the pools file's `discovery:`; cluster-autoscaler's tag discovery): every `intervalSeconds`, lists
 * the instance pools of each zone and manages those labelled `autoscaler/enabled=true` (bounds from their labels,
 * every other setting the environment's). A pool that loses its label, or is deleted, is let go once no scale call
 * or replacement of it is unsettled; its state stays on disk, its file_sd file is removed. A pool listed in the
 * pools file is the file's, whatever its labels. A zone that cannot be listed changes nothing in that zone.
 */
export class PoolDiscovery {
  private readonly logger = new Logger(PoolDiscovery.name);
  private readonly mine = new Map<string, PoolScope>();
  private running?: Promise<void>;
  readonly status: PoolDiscoveryStatus = {
    lastSuccessAt: null,
    lastError: null,
    problems: [],
    discovered: [],
  };

  constructor(
    private readonly fleet: Fleet,
    private readonly config: FleetConfig & { discovery: PoolDiscoveryConfig },
  ) {}

  get intervalSeconds(): number {
    return this.config.discovery.intervalSeconds;
  }

  /** One listing of every zone; concurrent callers share the pass in flight. */
  refresh(): Promise<void> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    const { settings, env = {} } = this.config;
    const endpointOf = (zone: string) =>
      settings.EXOSCALE_API_ENDPOINT ?? `https://api-${zone}.exoscale.com/v2`;
    const problems: string[] = [];
    const errors: string[] = [];
    const seen = new Set<string>();
    const listed = new Set<string>();
    for (const zone of this.config.discovery.zones) {
      let pools;
      try {
        pools = await this.fleet.clientFor(zone, endpointOf(zone)).listInstancePools();
      } catch (error) {
        errors.push(`${zone}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      listed.add(zone);
      for (const pool of pools) {
        const found = labelledPool(pool, zone);
        if (found.kind === 'unlabelled') continue;
        if (found.kind === 'invalid') {
          problems.push(found.problem);
          continue;
        }
        seen.add(found.id);
        const current = this.fleet.find(found.id);
        if (current && !this.mine.has(found.id)) continue; // the pools file's
        if (current) {
          // Bounds follow the labels.
          current.settings.POOL_MIN_SIZE = found.min;
          current.settings.POOL_MAX_SIZE = found.max;
          continue;
        }
        const clash = this.fleet.find(found.name);
        if (clash) {
          problems.push(
            `instance pool ${found.id} in ${zone}: the name ${found.name} is already used by pool ${clash.id}`,
          );
          continue;
        }
        try {
          const pool = { name: found.name, id: found.id, zone };
          const config = {
            ...pool,
            settings: poolSettings(env, settings, pool, { min: found.min, max: found.max }),
          };
          const stored = this.fleet.ha ? await this.fleet.ha.store.load(poolKey(found.id)) : null;
          const scope = this.fleet.add(config, stored);
          this.mine.set(found.id, scope);
          this.logger.log({
            msg: 'pool found by its labels: managed from now on',
            pool: found.name,
            id: found.id,
            zone,
          });
        } catch (error) {
          if (error instanceof SettingsError)
            problems.push(...error.problems.map((p) => `instance pool ${found.id} in ${zone}: ${p}`));
          else errors.push(`${zone}: ${found.id}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    for (const [id, scope] of this.mine) {
      if (seen.has(id) || !listed.has(scope.zone)) continue;
      if (scope.scaling.unsettled || scope.scaling.replacement) continue; // let go once settled
      this.fleet.remove(scope);
      this.mine.delete(id);
      await rm(scope.settings.SD_FILE, { force: true }).catch(() => undefined);
      this.logger.log({
        msg: 'pool no longer labelled (or gone): not managed any more',
        pool: scope.name,
        id,
      });
    }
    Object.assign(this.status, {
      problems,
      discovered: [...this.mine.values()].map((s) => s.name),
      lastError: errors.length > 0 ? errors.join('; ') : null,
      ...(errors.length === 0 ? { lastSuccessAt: new Date() } : {}),
    });
    if (problems.length > 0 || errors.length > 0)
      this.logger.warn({ msg: 'label discovery: some pools are not managed', problems, errors });
  }
}
