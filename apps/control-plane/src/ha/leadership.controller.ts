import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';

import { LeadershipService, LeadershipState } from './leadership.service';

export class LeadershipDto implements LeadershipState {
  @ApiProperty({
    enum: ['leader', 'follower'],
    description: 'This replica (with the state file: always the leader)',
  })
  role: 'leader' | 'follower';

  @ApiPropertyOptional({ example: 'cp-1', nullable: true, description: 'The lease holder as last seen' })
  holder: string | null;

  @ApiPropertyOptional({
    example: 7,
    nullable: true,
    description: 'The lease epoch: +1 at every acquisition',
  })
  epoch: number | null;

  @ApiPropertyOptional({
    example: '2026-11-30T10:00:15.000Z',
    nullable: true,
    description: 'The lease expiry by the database clock (state file: null)',
  })
  leaseExpiresAt: string | null;

  @ApiProperty({
    example: true,
    description:
      "The leader has waited its first lease period and settled the last leader's calls: it decides",
  })
  acting: boolean;
}

@ApiTags('operations')
@Controller('leadership')
export class LeadershipController {
  constructor(private readonly leadership: LeadershipService) {}

  @Get()
  @ApiOperation({ summary: 'Which replica leads: role, holder, epoch, lease expiry (every replica answers)' })
  @ApiOkResponse({ type: LeadershipDto })
  state(): LeadershipState {
    return this.leadership.state();
  }
}
