import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Largest accepted request body; Grafana groups many alerts into one notification. */
export const BODY_LIMIT = '1mb';

/** Everything main.ts and the e2e tests share: body parsing, validation, OpenAPI. */
export function configureApp(app: NestExpressApplication): INestApplication {
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.disable('x-powered-by');
  const config = new DocumentBuilder()
    .setTitle('Exoscale instance pool autoscaler')
    .setDescription(
      'Control plane: webhook intake (Grafana, Alertmanager, bare /up and /down), a scaling tick that applies one ' +
        'pending step within the bounds, the pool and its decision log, metrics and health.',
    )
    .setVersion('1.0')
    .addBasicAuth({ type: 'http', scheme: 'basic' }, 'webhook-basic')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'WEBHOOK_TOKEN' }, 'webhook-bearer')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API_TOKEN' }, 'api-token')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: 'docs-json',
  });
  return app;
}
