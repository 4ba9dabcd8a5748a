import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

export class ScaleRequestDto {
  @ApiPropertyOptional({
    enum: ['up', 'down'],
    description: 'One step; give either this or `size`',
    example: 'up',
  })
  @IsOptional()
  @IsIn(['up', 'down'])
  direction?: 'up' | 'down';

  @ApiPropertyOptional({ description: 'Absolute size within POOL_MIN_SIZE..POOL_MAX_SIZE', example: 3 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100000)
  size?: number;
}
