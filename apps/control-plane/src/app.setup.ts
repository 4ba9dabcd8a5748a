import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { IncomingMessage, Server } from 'node:http';
import { Socket } from 'node:net';

import { Settings } from './config/settings';

/** Largest accepted request body; Grafana groups many alerts into one notification. */
export const BODY_LIMIT = '1mb';

/**
 * Deliberate connection limits, so idle and slow clients cannot exhaust the process. Node enforces the headers and
 * request timeouts on a periodic check: it runs every second here (the default is 30 s). Set before listen().
 */
export function limitConnections(server: Server, settings: Settings): void {
  server.headersTimeout = settings.HTTP_HEADERS_TIMEOUT_SECONDS * 1000;
  server.requestTimeout = settings.HTTP_REQUEST_TIMEOUT_SECONDS * 1000;
  server.keepAliveTimeout = settings.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS * 1000;
  server.maxConnections = settings.HTTP_MAX_CONNECTIONS;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 1000;
  // Node's headers timeout starts with a request: a connection that never sends a byte needs its own limit.
  const served = new WeakSet<Socket>();
  server.on('connection', (socket: Socket) => {
    socket.setTimeout(server.headersTimeout, () => {
      if (!served.has(socket)) socket.destroy();
    });
  });
  server.on('request', (req: IncomingMessage) => {
    served.add(req.socket);
    // A response may take long (a manual scale waits for its operation): no inactivity limit once a request came.
    req.socket.setTimeout(0);
  });
}

/** Everything main.ts and the e2e tests share: body parsing, validation, OpenAPI, connection limits. */
export function configureApp(app: NestExpressApplication, settings: Settings): INestApplication {
  limitConnections(app.getHttpServer() as Server, settings);
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.disable('x-powered-by');
  const config = new DocumentBuilder()
    .setTitle('Exoscale instance pool autoscaler')
    .setDescription(
      'Control plane: webhook intake (Grafana, Alertmanager, bare /up and /down), a scaling tick that sizes the ' +
        'pool within the bounds, the pool and its decision log, metrics and health. ' +
        'The live status page is at [/](/).',
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
