import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Request } from 'express';
import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/core';
import { ApiModule } from './api.module';
import { REFRESH_COOKIE } from './auth/auth.controller';
import { API_KEY_SECURITY } from './http/api-key-security';
import { mountQueueDashboard } from './admin/queue-dashboard';
import { bodyIdleTimeout, jsonBodyGuard } from './http/body-guards';
import { apiCompression } from './http/compression';
import { ApiMetrics } from './observability/api-metrics';
import { ConfiguredIoAdapter } from './realtime/configured-io.adapter';
import { TUS_EXPOSED_HEADERS } from './upload/tus/tus-uploads.service';

/** The multipart upload route, whose interceptor watches its body itself. */
const UPLOAD_ROUTE = /^\/api\/upload\/?$/i;

/**
 * Builds the api application from a loaded config: global prefix, validation, Swagger. Shared by
 * main.ts and the tests, which start the very same app.
 */
export async function createApiApp(config: AppConfig): Promise<NestExpressApplication> {
  // No parser for forms (Nest's default adds one beside JSON's): every route takes JSON (jsonBodyGuard).
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config), { bufferLogs: true, bodyParser: false });
  configureApiApp(app);
  return app;
}

/**
 * Node's HTTP server timeouts, set for a service that takes large uploads from scripts and proxies.
 * - Keep-alive 65 s instead of Node's 5 s: Node's own client agents drop an idle socket after 5 s too,
 *   so a client could send its next request on a socket the server was closing at that moment
 *   ("socket hang up", ECONNRESET). Longer than clients' and proxies' idle times (Node's agent 5 s,
 *   undici 4 s, nginx and load balancers 60 s), so the client side always closes first.
 * - No cap on a whole request's time (Node's: 300 s): a 100 MiB upload over a slow uplink takes
 *   longer and would be cut off with everything received lost. A body that stops is cut by
 *   UPLOAD_IDLE_TIMEOUT_MS instead, on every route (bodyIdleTimeout; JSON bodies are at most 100 kB); a request's headers must
 *   still come within 66 s (Node's check, kept longer than the keep-alive).
 */
function configureHttpTimeouts(server: Server): void {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  server.on('clientError', answerClientError);
}

/**
 * Requests Node refuses before the app sees them (headers over 16 kB, a malformed request line,
 * headers too slow) get the error shape too, not Node's bare status line with no body.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // As Node's own handler: nothing is written where the socket is gone or a response has begun on it.
  const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || error.code === 'ECONNRESET' || answering?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request headers are too large (16 kB at most); a query string that long is one cause.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request headers did not arrive in time.']
        : [400, 'The request is not valid HTTP.'];
  const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function configureApiApp(app: INestApplication & Partial<NestExpressApplication>): void {
  const config = app.get(AppConfig);
  app.useLogger(app.get(Logger));
  const isUpload = (req: Request): boolean => req.method === 'POST' && UPLOAD_ROUTE.test(req.path);
  app.use(bodyIdleTimeout(config.upload.idleTimeoutMs, isUpload));
  app.useWebSocketAdapter(new ConfiguredIoAdapter(app, config));
  app.set?.('trust proxy', config.http.trustProxy);
  app.use(app.get(ApiMetrics).middleware);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // The web app, Swagger UI and thumbnails are all same-origin; Material needs inline styles.
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'", "'unsafe-inline'"],
          'img-src': ["'self'", 'data:', 'blob:'],
          'font-src': ["'self'", 'data:'],
          'connect-src': ["'self'"],
          'object-src': ["'none'"],
          'frame-ancestors': ["'none'"],
          'upgrade-insecure-requests': null,
        },
      },
      // Thumbnails are fetched by <img> tags of this origin only.
      crossOriginResourcePolicy: { policy: 'same-origin' },
    }),
  );
  app.use(apiCompression());
  // Before the dashboard: bull-board's own parser would answer bad JSON in its own shape; this one's
  // errors (malformed: 400, too large: 413) reach the one error filter, on every route alike.
  app.useBodyParser?.('json', { limit: '100kb' });
  app.use(jsonBodyGuard(isUpload));
  mountQueueDashboard(app);
  if (config.http.corsOrigins.length > 0) {
    app.enableCors({
      origin: [...config.http.corsOrigins],
      credentials: false,
      exposedHeaders: ['Retry-After', 'X-Request-Id', ...TUS_EXPOSED_HEADERS],
      maxAge: 600,
    });
  }
  app.setGlobalPrefix('api', { exclude: ['metrics'] });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // Objects where strings belong (e.g. {"email": {"$gt": ""}}) fail IsString; never coerce them.
      transformOptions: { enableImplicitConversion: false },
    }),
  );
  app.disable?.('x-powered-by');
  app.enableShutdownHooks();
  configureHttpTimeouts(app.getHttpServer() as Server);
  boundShutdown(app.getHttpServer() as Server, config.worker.shutdownGraceMs);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('thumbs')
      .setDescription('Upload images and videos, get 128×128 JPEG thumbnails. Real-time status over Socket.IO (`job:status`).')
      .setVersion('1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'thumbs_…',
          description:
            'An API key (`POST /api/api-keys`), within its scopes: `read` (GET routes, the socket), `upload` (upload, retry), `delete` (delete, bulk delete)',
        },
        API_KEY_SECURITY,
      )
      .addCookieAuth(REFRESH_COOKIE, { type: 'apiKey', in: 'cookie', name: REFRESH_COOKIE }, REFRESH_COOKIE)
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json', useGlobalPrefix: false });
}

/**
 * On SIGTERM or SIGINT, requests in flight (an upload, a zip being streamed) have SHUTDOWN_GRACE_MS
 * to finish; then the connections still open are closed, so that the process exits. Closing the
 * server alone waits for every one of them: a slow download held a stopping api for minutes,
 * refusing health checks and socket reconnections meanwhile.
 */
function boundShutdown(server: Server, graceMs: number): void {
  const bound = () => setTimeout(() => server.closeAllConnections(), graceMs).unref();
  process.once('SIGTERM', bound);
  process.once('SIGINT', bound);
  // An app closed otherwise (tests) leaves nothing behind on the process.
  server.once('close', () => {
    process.off('SIGTERM', bound);
    process.off('SIGINT', bound);
  });
}
