import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { catchError, concatMap, from, Observable, of, throwError } from 'rxjs';
import type { AuthUser } from '@app/auth';
import { ConflictError, InvalidInputError } from '@app/core';
import { Idempotency } from '@app/jobs';

const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * `Idempotency-Key` on uploads: the first request with a key runs and its response is kept (24 h);
 * the same user sending the key again gets that response back and creates nothing. A repeat while
 * the first is still running gets 409; the first holds its claim as a lease renewed while its
 * connection is open, so a request that dies (crash, lost client) frees the key within seconds.
 * Runs before the body is parsed, so a replay stores no files.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly idempotency: Idempotency) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const req = context.switchToHttp().getRequest<Request & { user: AuthUser }>();
    const res = context.switchToHttp().getResponse<Response>();
    const key = req.headers['idempotency-key'];
    if (key === undefined) return next.handle();
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new InvalidInputError('Idempotency-Key must be 1-255 visible ASCII characters');
    }
    const userId = req.user.id;
    const claim = await this.idempotency.claim(userId, key);
    if (claim.state === 'done') {
      res.status(201).setHeader('Idempotent-Replayed', 'true');
      // Drain what the client still sends; the reply does not depend on it.
      req.resume();
      return of(JSON.parse(claim.response) as unknown);
    }
    if (claim.state === 'in-progress') {
      req.resume();
      throw new ConflictError('A request with this Idempotency-Key is still being processed; wait for it and send again.');
    }
    const { lease } = claim;
    // The connection gone (client or proxy gave up): stop renewing; the lease then runs out unless the
    // request still finishes and keeps its response.
    res.once('close', () => lease.stopRenewing());
    return next.handle().pipe(
      concatMap(async (body: unknown) => {
        await lease.complete(JSON.stringify(body));
        return body;
      }),
      // A failed request does not use the key up: the client may send it again.
      catchError((error: unknown) => from(lease.release().catch(() => undefined)).pipe(concatMap(() => throwError(() => error)))),
    );
  }
}
