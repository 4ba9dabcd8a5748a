import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsObject,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

import { IsStringMap } from './is-string-map';

export class EvalMatchDto {
  @ApiPropertyOptional({ example: 'cpu' })
  @IsOptional()
  @IsString()
  metric?: string;

  @ApiPropertyOptional({ example: 0.93, nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsNumber()
  value?: number | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsStringMap()
  tags?: Record<string, string> | null;
}

export const LEGACY_STATES = ['alerting', 'ok', 'no_data', 'paused', 'pending'] as const;

/** Grafana legacy dashboard alerting (4.x to 10.x). */
export class GrafanaLegacyPayloadDto {
  @ApiProperty({ enum: LEGACY_STATES, example: 'alerting' })
  @IsIn(LEGACY_STATES)
  state: (typeof LEGACY_STATES)[number];

  @ApiPropertyOptional({ example: '[Alerting] Pool CPU high' })
  @IsOptional()
  @IsString()
  title?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  ruleId?: number;

  @ApiPropertyOptional({ example: 'Pool CPU high' })
  @IsOptional()
  @IsString()
  ruleName?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  ruleUrl?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  message?: string;

  @ApiPropertyOptional({ type: [EvalMatchDto] })
  @IsOptional()
  @IsArray()
  @IsObject({ each: true, message: 'each of evalMatches must be a JSON object' })
  @ValidateNested({ each: true })
  @Type(() => EvalMatchDto)
  evalMatches?: EvalMatchDto[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
    description: 'The tag `autoscale` (`up`/`down`) gives the direction unless the URL does',
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsStringMap()
  tags?: Record<string, string> | null;
}
