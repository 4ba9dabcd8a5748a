import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

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

  @ApiProperty({ example: ['up signal pending', 'size 1 -> 2'] })
  reasons: string[];

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

export class PoolStatusDto {
  @ApiProperty({ example: 'a02baf5a-a3e4-49a0-857b-8a08d276c1c0' })
  id: string;

  @ApiProperty({ example: 'autoscaling' })
  name: string;

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

  @ApiProperty({ example: '2026-11-23T10:01:00.000Z', nullable: true })
  nextTickAt: string | null;

  @ApiProperty({ example: false })
  dryRun: boolean;

  @ApiPropertyOptional({ type: DecisionEntryDto, nullable: true })
  lastDecision: DecisionEntryDto | null;
}
