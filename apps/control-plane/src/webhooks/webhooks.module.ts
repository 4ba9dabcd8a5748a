import { Module } from '@nestjs/common';

import { WebhookAuthGuard } from './webhook-auth.guard';
import { WebhookIntakeService } from './webhook-intake.service';
import { WebhooksController } from './webhooks.controller';

@Module({
  controllers: [WebhooksController],
  providers: [WebhookIntakeService, WebhookAuthGuard],
})
export class WebhooksModule {}
