import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { AppConfig } from '../config/app-config';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Reuses a sane incoming X-Request-Id (from a proxy), else makes one; echoes it on the response. */
export function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * Structured JSON logs (pino) for a process; pretty-printed only on a developer's terminal.
 * Secrets (tokens, cookies, URL signatures) are redacted.
 */
export function loggerModule(config: AppConfig, app: 'api' | 'worker') {
  const pretty = config.env === 'development' && process.stdout.isTTY;
  // Synchronous writes: the last lines before a shutdown or crash are not lost in a buffer.
  const destination = pretty ? undefined : pino.destination({ dest: 1, sync: true });
  return LoggerModule.forRoot({
    // Express 5 route syntax for "every path" (the default '*' is deprecated).
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.logLevel,
      base: { app, pid: process.pid },
      genReqId: requestIdOf,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.query.sig', 'req.query.token', 'res.headers["set-cookie"]'],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          // Signed URLs carry their signature in the query: log the path only.
          url: req.url?.split('?')[0],
        }),
        // The status only: response headers carry what does not belong in logs (tus's Upload-Metadata holds file names and the owner's id).
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => req.url === '/api/health' || req.url === '/health' || req.url === '/metrics' },
      transport: pretty ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } : undefined,
      stream: destination,
    },
  });
}
