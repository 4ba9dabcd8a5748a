import { Module } from '@nestjs/common';

import { LeadershipController } from './leadership.controller';

/** GET /leadership; the lease itself lives with the fleet (FleetModule's LeadershipService). */
@Module({ controllers: [LeadershipController] })
export class HaModule {}
