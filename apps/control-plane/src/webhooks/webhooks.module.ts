import { Module } from '@nestjs/common';

import { ScalingModule } from '../scaling/scaling.module';
import { WebhookAuthGuard } from './webhook-auth.guard';
import { WebhookIntakeService } from './webhook-intake.service';
import { WebhooksController } from './webhooks.controller';

@Module({
  imports: [ScalingModule],
  controllers: [WebhooksController],
  providers: [WebhookIntakeService, WebhookAuthGuard],
})
export class WebhooksModule {}
