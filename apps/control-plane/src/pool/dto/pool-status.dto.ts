import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { REASON_CODES } from '@app/scaling-policy';

export class PoolMemberDto {
  @ApiProperty({ example: '3f8c1d2e-0000-4000-8000-000000000001' })
  id: string;

  @ApiProperty({ example: 'pool-1a2b3-4c5d6' })
  name: string;

  @ApiProperty({ example: '194.182.0.10', nullable: true })
  ip: string | null;

  @ApiProperty({ example: 'running' })
  state: string;

  @ApiPropertyOptional({
    enum: ['success', 'failure'],
    description: 'Load balancer health check of this member, when known',
  })
  health?: string;

  @ApiProperty({ example: '2026-11-23T10:00:00.000Z', nullable: true })
  createdAt: string | null;

  @ApiProperty({ description: 'Created less than WARMUP_SECONDS ago: capacity on its way, not yet measured' })
  warmingUp: boolean;

  @ApiProperty({
    enum: ['healthy', 'unhealthy', 'grace', 'unknown'],
    description:
      "The member's health as the control plane judges it (grace period, instance state, start-up timeout, consecutive load balancer failures)",
  })
  judgedHealth: string;

  @ApiProperty({ example: "the load balancer's health check failed 3 reads in a row over 31 s" })
  healthReason: string;
}

export class ReasonDto {
  @ApiProperty({ enum: REASON_CODES, example: 'TargetSize' })
  code: string;

  @ApiProperty({ example: '93 % of 2 member(s) (prometheus): load 1.86 members; at 60 % target it needs 4' })
  text: string;
}

export class AlertStateDto {
  @ApiProperty({ enum: ['up', 'down'] })
  direction: string;

  @ApiProperty({ example: 'PoolCpuHigh' })
  alert: string;

  @ApiProperty({ example: '2026-11-23T10:00:00.000Z' })
  firingSince: string;

  @ApiProperty({ example: '2026-11-23T10:05:00.000Z' })
  lastReceivedAt: string;

  @ApiProperty({
    example: 0.93,
    nullable: true,
    description: 'The utilisation the last notification carried',
  })
  value: number | null;

  @ApiProperty({
    example: '2026-11-23T10:12:00.000Z',
    description: 'Expires unless re-notified (ALERT_TTL_SECONDS)',
  })
  expiresAt: string;
}

export class PolicyStatusDto {
  @ApiProperty({ enum: ['target', 'step'] })
  name: string;

  @ApiProperty({ example: 0.6 })
  targetUtilization: number;

  @ApiProperty({ example: 0.75 })
  scaleInUtilization: number;

  @ApiProperty({ example: 180 })
  warmupSeconds: number;

  @ApiProperty({ example: 420 })
  alertTtlSeconds: number;

  @ApiProperty({
    example: true,
    description: 'PROMETHEUS_URL is set: the utilisation is read fresh at each tick',
  })
  readsPrometheus: boolean;
}

export class BoundsDto {
  @ApiProperty({ example: 1 })
  min: number;

  @ApiProperty({ example: 10 })
  max: number;
}

export class PendingDto {
  @ApiProperty()
  up: boolean;

  @ApiProperty()
  down: boolean;
}

export class LoadBalancerHealthDto {
  @ApiProperty({ example: '194.182.0.100' })
  ip: string | null;

  @ApiProperty({ example: 2 })
  healthy: number;

  @ApiProperty({ example: 2 })
  total: number;
}

export class DecisionEntryDto {
  @ApiPropertyOptional({ example: 'web', description: 'The managed pool the decision is about' })
  poolName?: string;

  @ApiPropertyOptional({ example: 7, description: 'Two replicas: the epoch of the leader that decided' })
  epoch?: number;

  @ApiProperty({ example: 12 })
  id: number;

  @ApiProperty({ example: '2026-11-23T10:00:00.000Z' })
  time: string;

  @ApiProperty({ enum: ['tick', 'manual'] })
  trigger: string;

  @ApiProperty({ type: PendingDto })
  pending: PendingDto;

  @ApiPropertyOptional({ example: { direction: 'up' } })
  request?: { direction?: string; size?: number };

  @ApiProperty({ example: { size: 1, state: 'running' }, nullable: true })
  pool: { size: number; state: string } | null;

  @ApiProperty({ enum: ['scale', 'none', 'deferred', 'error'] })
  decision: string;

  @ApiProperty({ enum: ['scaled', 'none', 'deferred', 'dry-run', 'error'] })
  outcome: string;

  @ApiProperty({ enum: ['up', 'down'], nullable: true })
  direction: string | null;

  @ApiProperty({ example: 2, nullable: true })
  targetSize: number | null;

  @ApiProperty({
    enum: REASON_CODES,
    example: 'TargetSize',
    description: 'The reason that decided the outcome',
  })
  code: string;

  @ApiProperty({ type: [ReasonDto] })
  reasons: ReasonDto[];

  @ApiProperty({ enum: ['target', 'step'] })
  policy: string;

  @ApiProperty({
    example: {
      up: {
        alerts: ['PoolCpuHigh'],
        firingSince: '2026-11-23T10:00:00.000Z',
        value: 0.93,
        valueAt: '2026-11-23T10:00:00.000Z',
      },
      down: null,
    },
  })
  alerts: { up: unknown; down: unknown };

  @ApiProperty({
    nullable: true,
    example: {
      utilisation: 0.93,
      measuredAt: 1795000000,
      members: 2,
      serving: 3,
      source: 'prometheus',
      load: 1.86,
      servingMembers: 2,
    },
    description:
      'The reading the size was computed from: members (measured by Prometheus), serving (reported healthy by the load balancer, when read), load (utilisation x the members it was sized from)',
  })
  basis: unknown;

  @ApiProperty({ type: BoundsDto })
  bounds: BoundsDto;

  @ApiProperty({ enum: ['min', 'max'], nullable: true })
  boundApplied: string | null;

  @ApiProperty({
    example: { id: '6a3c0000-0000-4000-8000-000000000001', outcome: 'success' },
    nullable: true,
  })
  operation: { id: string | null; outcome: string; error?: string } | null;

  @ApiProperty({ example: 5312 })
  durationMs: number;
}

export class ScheduleWindowDto {
  @ApiProperty({ example: 'office' })
  name: string;

  @ApiProperty({ example: '0 8 * * 1-5', description: 'cron that opens the window, in its time zone' })
  start: string;

  @ApiPropertyOptional({ example: '0 18 * * 1-5', description: 'cron that closes the window' })
  end?: string;

  @ApiPropertyOptional({ example: 36000, description: 'or: how long the window lasts after each start' })
  durationSeconds?: number;

  @ApiProperty({ example: 'Europe/Vienna' })
  timezone: string;

  @ApiPropertyOptional({ example: 3 })
  min?: number;

  @ApiPropertyOptional({ example: 6 })
  max?: number;
}

export class NextWindowDto {
  @ApiProperty({ example: 'office' })
  name: string;

  @ApiProperty({ example: '2026-11-24T07:00:00.000Z' })
  at: string;
}

export class ScheduleStatusDto {
  @ApiProperty({ type: [ScheduleWindowDto], description: 'SCHEDULES windows active now' })
  active: ScheduleWindowDto[];

  @ApiPropertyOptional({
    type: NextWindowDto,
    nullable: true,
    description: 'the next start of a window not active now',
  })
  next: NextWindowDto | null;

  @ApiProperty({ type: BoundsDto, description: 'POOL_MIN_SIZE / POOL_MAX_SIZE, before the schedule' })
  configured: BoundsDto;
}

export class ForecastDto {
  @ApiProperty({ enum: ['off', 'forecast-only', 'on'], description: 'FORECAST_MODE' })
  mode: string;

  @ApiProperty({
    example: 5,
    nullable: true,
    description: 'The forecast size (null: no history to forecast from)',
  })
  size: number | null;

  @ApiProperty({ example: 3.9, nullable: true, description: "The load forecast, in members' worth of CPU" })
  load: number | null;

  @ApiProperty({ enum: ['day', 'week', 'both', 'none'], description: 'Which history the forecast came from' })
  source: string;

  @ApiProperty({ example: 'forecast 5 members for a load of 3.9 (the peak a day back)' })
  reason: string;

  @ApiProperty({ example: '2026-11-30T10:01:00.000Z', description: 'When the last tick made it' })
  at: string;
}

export class PoolStatusDto {
  @ApiProperty({ example: 'a02baf5a-a3e4-49a0-857b-8a08d276c1c0' })
  id: string;

  @ApiProperty({ example: 'autoscaling', description: "The instance pool's name at Exoscale" })
  name: string;

  @ApiProperty({
    example: 'web',
    description:
      "The managed pool's name here (POOL_NAME, or the pools file): its URLs, `pool` label, metrics",
  })
  pool: string;

  @ApiProperty({ example: 'at-vie-1' })
  zone: string;

  @ApiProperty({ example: 2 })
  size: number;

  @ApiProperty({ example: 'running' })
  state: string;

  @ApiProperty({ type: BoundsDto })
  bounds: BoundsDto;

  @ApiProperty({ type: [PoolMemberDto] })
  members: PoolMemberDto[];

  @ApiPropertyOptional({ type: LoadBalancerHealthDto, nullable: true })
  loadBalancer: LoadBalancerHealthDto | null;

  @ApiProperty({ type: PendingDto })
  pending: PendingDto;

  @ApiProperty({
    type: [AlertStateDto],
    description: 'Alerts firing now (their state, not their notifications)',
  })
  alerts: AlertStateDto[];

  @ApiProperty({ type: PolicyStatusDto })
  policy: PolicyStatusDto;

  @ApiProperty({ example: '2026-11-23T10:01:00.000Z', nullable: true })
  nextTickAt: string | null;

  @ApiProperty({ example: false })
  dryRun: boolean;

  @ApiPropertyOptional({ type: DecisionEntryDto, nullable: true })
  lastDecision: DecisionEntryDto | null;

  @ApiPropertyOptional({
    type: ScheduleStatusDto,
    description:
      'Scheduled capacity, when SCHEDULES is set: the active windows (their bounds are in `bounds`)',
  })
  schedules?: ScheduleStatusDto;

  @ApiPropertyOptional({
    type: ForecastDto,
    description:
      "Predictive pre-scaling (FORECAST_MODE not off, PROMETHEUS_URL set): the last tick's forecast",
  })
  forecast?: ForecastDto;
}

export class LastDecisionDto {
  @ApiProperty({ example: 12 })
  id: number;

  @ApiProperty({ example: '2026-11-30T10:01:00.000Z' })
  time: string;

  @ApiProperty({ example: 'scaled' })
  outcome: string;

  @ApiProperty({ example: 'Saturated' })
  code: string;

  @ApiProperty({ example: 4, nullable: true })
  targetSize: number | null;
}

/** One pool of GET /pools: what the control plane knows without calling the API. */
export class PoolSummaryDto {
  @ApiProperty({ example: 'web' })
  name: string;

  @ApiProperty({ example: 'a02baf5a-a3e4-49a0-857b-8a08d276c1c0' })
  id: string;

  @ApiProperty({ example: 'at-vie-1' })
  zone: string;

  @ApiProperty({
    example: 3,
    nullable: true,
    description: 'The size as last read (or requested); null before any read',
  })
  size: number | null;

  @ApiProperty({ example: 'running', nullable: true })
  state: string | null;

  @ApiProperty({ example: 1, description: 'The minimum in force (schedules included)' })
  min: number;

  @ApiProperty({ example: 10, description: 'The maximum in force (schedules included)' })
  max: number;

  @ApiProperty({ example: 3, description: 'Running members, as discovery last listed them' })
  members: number;

  @ApiProperty({
    example: 0.62,
    nullable: true,
    description: 'The utilisation the last decision saw, while recent',
  })
  utilisation: number | null;

  @ApiProperty({ type: PendingDto })
  pending: PendingDto;

  @ApiProperty({ example: 1, description: 'Alerts firing now' })
  firing: number;

  @ApiProperty({ example: 'target' })
  policy: string;

  @ApiProperty({ type: LastDecisionDto, nullable: true })
  lastDecision: LastDecisionDto | null;

  @ApiProperty({ example: '2026-11-30T10:02:00.000Z', nullable: true })
  nextTickAt: string | null;
}
