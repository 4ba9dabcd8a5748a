import { ApiProperty } from '@nestjs/swagger';

export class SignalChangeDto {
  @ApiProperty({ enum: ['up', 'down'] })
  direction: 'up' | 'down';

  @ApiProperty({ enum: ['record', 'clear'] })
  action: 'record' | 'clear';

  @ApiProperty({ example: 'PoolCpuHigh' })
  alert: string;

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

export class WebhookResultDto {
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
}
