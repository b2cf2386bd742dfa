import type { Request } from 'express';

/** The request id pino-http gave this request (from X-Request-Id or generated). */
export function requestIdOf(req: Request): string | null {
  const id = (req as Request & { id?: unknown }).id;
  return typeof id === 'string' ? id : null;
}
