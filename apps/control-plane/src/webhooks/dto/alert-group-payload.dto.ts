import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

import { IsStringMap } from './is-string-map';

/** One alert of a Grafana unified or Alertmanager notification. Unknown extra fields are allowed. */
export class AlertDto {
  @ApiProperty({ enum: ['firing', 'resolved'], example: 'firing' })
  @IsIn(['firing', 'resolved'])
  status: 'firing' | 'resolved';

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { alertname: 'PoolCpuHigh', autoscale: 'up' },
    description: 'The label `autoscale` (`up`/`down`) gives the direction unless the URL does',
  })
  @IsStringMap()
  labels: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringMap()
  annotations?: Record<string, string>;

  @ApiPropertyOptional({ example: '2026-11-23T10:00:00Z' })
  @IsOptional()
  @IsString()
  startsAt?: string;

  @ApiPropertyOptional({ example: '0001-01-01T00:00:00Z' })
  @IsOptional()
  @IsString()
  endsAt?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  generatorURL?: string;

  @ApiPropertyOptional({ example: 'c6eadffa33fcdf37' })
  @IsOptional()
  @IsString()
  fingerprint?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'number' },
    nullable: true,
    description: 'Grafana 9+: values of the rule expressions; may be null or absent',
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsObject()
  values?: Record<string, number> | null;

  @ApiPropertyOptional({
    description:
      "Grafana 8+: the expressions' values as text; newer versions give each one's type (query, reduce, threshold)",
  })
  valueString?: unknown;
}

/** Grafana unified alerting (8.0 to 13.x, `version` "1") and Prometheus Alertmanager (`version` "4") notifications. */
export class AlertGroupPayloadDto {
  @ApiPropertyOptional({ example: 'autoscaler' })
  @IsOptional()
  @IsString()
  receiver?: string;

  @ApiProperty({ enum: ['firing', 'resolved'] })
  @IsIn(['firing', 'resolved'])
  status: 'firing' | 'resolved';

  @ApiProperty({ type: [AlertDto] })
  @IsArray()
  @IsObject({ each: true, message: 'each alert must be a JSON object' })
  @ValidateNested({ each: true })
  @Type(() => AlertDto)
  alerts: AlertDto[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringMap()
  groupLabels?: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringMap()
  commonLabels?: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringMap()
  commonAnnotations?: Record<string, string>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  externalURL?: string;

  @ApiPropertyOptional({ example: '4', description: '"1" from Grafana, "4" from Alertmanager' })
  @IsOptional()
  @IsString()
  version?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  groupKey?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  truncatedAlerts?: number;

  @ApiPropertyOptional({ description: 'Grafana only' })
  @IsOptional()
  @IsInt()
  orgId?: number;

  @ApiPropertyOptional({ description: 'Grafana only' })
  @IsOptional()
  @IsString()
  title?: string;

  @ApiPropertyOptional({ description: 'Grafana only: alerting or ok' })
  @IsOptional()
  @IsString()
  state?: string;

  @ApiPropertyOptional({ description: 'Grafana only' })
  @IsOptional()
  @IsString()
  message?: string;
}
