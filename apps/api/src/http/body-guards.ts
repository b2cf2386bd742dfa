import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { InvalidInputError } from '@app/core';

/** The deepest JSON body taken (objects and arrays within each other); every DTO here is 3 levels deep at most. */
export const MAX_JSON_DEPTH = 32;

/**
 * Cuts a request whose body stops arriving: no byte for `idleMs` while the route is reading it
 * answers 408 in the error shape (when nothing has been answered yet) and closes the connection.
 * Node's own cap on a whole request is off (large uploads over slow links), so without this a
 * client could hold a connection forever by sending a Content-Length and then nothing.
 *
 * Progress is read from the socket's byte count, not by listening for 'data' (a listener would
 * set the body flowing before its route reads it, and the bytes would be lost). Time in which the
 * route is not reading (before it starts, or while it holds back because storage is slower than
 * the client) does not count: that wait is the service's, not the client's.
 *
 * `skip`: routes that watch their own bodies (`POST /api/upload`, which also removes the files a
 * cut-off upload has stored).
 */
export function bodyIdleTimeout(idleMs: number, skip: (req: Request) => boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!hasBody(req) || skip(req)) return next();
    const socket = req.socket;
    let bytes = socket.bytesRead;
    let movedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    };
    const check = (): void => {
      timer = undefined;
      if (req.complete || req.destroyed || res.writableEnded) return;
      if (socket.bytesRead !== bytes || req.readableFlowing !== true) {
        bytes = socket.bytesRead;
        movedAt = Date.now();
      } else if (Date.now() - movedAt >= idleMs) {
        cut(req, res, idleMs);
        return;
      }
      timer = setTimeout(check, step);
    };
    // Looked at a few times per period, so a stall is cut within a quarter period (at most 1 s) of its due time.
    const step = Math.max(10, Math.min(1000, idleMs / 4));
    timer = setTimeout(check, step);
    req.once('end', stop);
    res.once('close', stop);
    next();
  };
}

function cut(req: Request, res: Response, idleMs: number): void {
  const seconds = idleMs / 1000;
  const close = (): void => {
    req.socket.destroy();
  };
  if (res.headersSent) {
    close();
    return;
  }
  res.once('finish', close);
  res
    .status(408)
    .set('Connection', 'close')
    .json({
      statusCode: 408,
      error: 'Request Timeout',
      message: `No bytes of the request body arrived for ${seconds} s: the request was aborted. Send it again.`,
    });
}

function hasBody(req: Request): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

/**
 * After the JSON parser, before anything reads the body:
 * - a form post (`application/x-www-form-urlencoded`) is refused: every route here takes JSON
 *   (but `takesFiles`, whose own answer asks for multipart), and a form is what another site can
 *   make a browser send without asking (signing a visitor in to the sender's account, say);
 * - a JSON body nested deeper than MAX_JSON_DEPTH is refused before validation walks it (2,000
 *   nested brackets, 3 kB, overflowed the validator's stack: a 500).
 */
export function jsonBodyGuard(takesFiles: (req: Request) => boolean): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (hasBody(req) && req.is('application/x-www-form-urlencoded') && !takesFiles(req)) {
      next(new InvalidInputError('Send the body as JSON, with Content-Type: application/json.'));
      return;
    }
    if (nestedDeeperThan(req.body, MAX_JSON_DEPTH)) {
      next(new InvalidInputError(`The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`));
      return;
    }
    next();
  };
}

/** Whether objects and arrays lie more than `limit` levels within each other in `value` (walked without recursion). */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const [current, depth] = item;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}
