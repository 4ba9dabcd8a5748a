import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class SignalChangeDto {
  @ApiPropertyOptional({ example: 'web', description: 'The pool (when several are managed)' })
  pool?: string;

  @ApiProperty({ enum: ['up', 'down'] })
  direction: 'up' | 'down';

  @ApiProperty({ enum: ['record', 'clear'] })
  action: 'record' | 'clear';

  @ApiProperty({ example: 'PoolCpuHigh' })
  alert: string;

  @ApiProperty({
    example: 'c6eadffa33fcdf37',
    description:
      "The alert's identity: its fingerprint, else its label set; a resolved alert clears only its own",
  })
  id: string;

  @ApiProperty({
    example: 0.93,
    nullable: true,
    description:
      'The pool utilisation (0..1) the alert carried (annotation `value`, Grafana `values`, legacy `evalMatches`)',
  })
  value: number | null;
}

export class IgnoredAlertDto {
  @ApiProperty({ example: 'TestAlert' })
  alert: string;

  @ApiProperty({ example: 'test notification' })
  reason: string;
}

export class AlertInForceDto {
  @ApiPropertyOptional({ example: 'web', description: 'The pool (when several are managed)' })
  pool?: string;

  @ApiProperty({ enum: ['up', 'down'] })
  direction: 'up' | 'down';

  @ApiProperty({ example: 'PoolCpuHigh' })
  alert: string;

  @ApiProperty({ example: 'c6eadffa33fcdf37' })
  id: string;

  @ApiProperty({ example: 0.93, nullable: true })
  value: number | null;

  @ApiProperty({ example: '2026-11-30T10:00:00.000Z' })
  firingSince: string;
}

export class WebhookResultDto {
  @ApiPropertyOptional({ example: 'web', description: 'The pool the notification was for' })
  pool?: string;

  @ApiPropertyOptional({
    example: ['web', 'worker'],
    description: 'A notification whose alerts were for several pools: each pool got its own alerts',
  })
  pools?: string[];

  @ApiProperty({
    enum: ['accepted', 'ignored'],
    description: 'accepted (202): a signal was recorded; ignored (200): nothing recorded',
  })
  status: 'accepted' | 'ignored';

  @ApiProperty({ type: [SignalChangeDto] })
  changes: SignalChangeDto[];

  @ApiProperty({ type: [IgnoredAlertDto] })
  ignored: IgnoredAlertDto[];

  @ApiProperty({ example: ['up signal recorded; applied at the next tick'] })
  reasons: string[];

  @ApiProperty({
    type: [AlertInForceDto],
    description:
      'Every alert still firing after this notification, both directions (what the next tick will see)',
  })
  inForce: AlertInForceDto[];

  @ApiPropertyOptional({
    example: '2026-11-30T10:00:00.000Z',
    description:
      'A duplicate delivery (see WEBHOOK_DEDUP_SECONDS): when the same notification was first received',
  })
  duplicateOf?: string;

  @ApiPropertyOptional({
    example: true,
    description:
      'Two replicas (DATABASE_URL): the notification is queued in the state store; the leader applies it within a second',
  })
  queued?: boolean;
}
