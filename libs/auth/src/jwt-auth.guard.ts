import { createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { ForbiddenError, UnauthorizedError } from '@app/core';
import { API_KEY_PREFIX, ApiKeyScope } from '@app/shared';
import { ApiKeysService } from './api-keys.service';
import type { AuthUser } from './auth.service';

const API_KEY_SCOPE = 'thumbs:api-key-scope';

/**
 * The scope an API key needs for a route. Without it, GET and HEAD routes need `read` and every
 * other route refuses API keys (403): a new route is closed to keys until it says which scope.
 */
export const RequiresScope = (scope: ApiKeyScope) => SetMetadata(API_KEY_SCOPE, scope);

/** The route refuses API keys (403) whatever their scopes: it needs a password sign-in (e.g. managing keys). */
export const NoApiKeys = () => SetMetadata(API_KEY_SCOPE, null);

/** The scope depends on the request's body: the handler calls assertScope itself (e.g. bulk actions). */
export const ScopeCheckedByHandler = () => SetMetadata(API_KEY_SCOPE, HANDLER_CHECKS);

const HANDLER_CHECKS = 'handler';

/** The Bearer credential of a request, if any. */
export function bearerOf(req: Request): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}

/** Whether a bearer credential is an API key (and not a JWT). */
export function isApiKey(token: string | null | undefined): token is string {
  return typeof token === 'string' && token.startsWith(API_KEY_PREFIX);
}

/** Throws 403 unless `user` is a password sign-in or an API key holding `scope`. For handlers whose scope depends on the body. */
export function assertScope(user: AuthUser, scope: ApiKeyScope | null): void {
  if (!user.apiKey) return;
  if (scope === null) throw new ForbiddenError('API keys cannot be used here: sign in with your password.');
  if (!user.apiKey.scopes.includes(scope)) throw new ForbiddenError(`This API key lacks the "${scope}" scope.`);
}

/** Base of both guards: an API key is checked here, anything else goes to passport-jwt. */
abstract class BearerGuard extends AuthGuard('jwt') {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly reflector: Reflector,
  ) {
    super();
  }

  protected requiredScope(context: ExecutionContext, method: string): ApiKeyScope | null | typeof HANDLER_CHECKS {
    const declared = this.reflector.getAllAndOverride<ApiKeyScope | null | typeof HANDLER_CHECKS | undefined>(API_KEY_SCOPE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (declared !== undefined) return declared;
    return method === 'GET' || method === 'HEAD' ? 'read' : null;
  }

  /** The caller of an API key request with its scope checked and rate counted; throws 401/403/429. */
  protected async keyUser(context: ExecutionContext, token: string): Promise<AuthUser> {
    const req = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    const user = await this.apiKeys.authenticate(token);
    if (!user) throw new UnauthorizedError('Invalid or revoked API key');
    const scope = this.requiredScope(context, req.method);
    if (scope !== HANDLER_CHECKS) assertScope(user, scope);
    await this.apiKeys.assertWithinRate(user.apiKey!.id);
    req.user = user;
    return user;
  }
}

/**
 * Requires a valid Bearer credential: an access token (JWT) or an API key (`thumbs_…`) holding the
 * route's scope (see RequiresScope). Puts the caller on `request.user`.
 */
@Injectable()
export class JwtAuthGuard extends BearerGuard {
  constructor(apiKeys: ApiKeysService, reflector: Reflector) {
    super(apiKeys, reflector);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const token = bearerOf(context.switchToHttp().getRequest<Request>());
    if (isApiKey(token)) {
      await this.keyUser(context, token);
      return true;
    }
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<TUser = AuthUser>(error: unknown, user: TUser | false): TUser {
    if (error) throw error instanceof Error ? error : new UnauthorizedError('Sign in required: the access token could not be checked');
    if (!user) throw new UnauthorizedError('Sign in required: missing, invalid or expired access token');
    return user;
  }
}

/**
 * Like JwtAuthGuard, but lets requests without a valid credential through (with no `request.user`),
 * for routes that also accept another credential such as a signed URL.
 */
@Injectable()
export class OptionalJwtAuthGuard extends BearerGuard {
  constructor(apiKeys: ApiKeysService, reflector: Reflector) {
    super(apiKeys, reflector);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const token = bearerOf(context.switchToHttp().getRequest<Request>());
    if (isApiKey(token)) {
      try {
        await this.keyUser(context, token);
      } catch (error) {
        // A key that is not good enough counts as no credential when the URL is signed (the
        // signature may still be); without one, a key lacking the scope is told so (403), like on
        // every other route. The rate limit is answered as such.
        const kind = (error as { kind?: string }).kind;
        const signed = (context.switchToHttp().getRequest<Request>().query as Record<string, unknown>).sig !== undefined;
        if (kind === 'too_many_requests' || (kind === 'forbidden' && !signed)) throw error;
      }
      return true;
    }
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<TUser = AuthUser>(_error: unknown, user: TUser | false): TUser {
    return (user || undefined) as TUser;
  }
}

/** The authenticated caller of a route behind JwtAuthGuard. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthUser | undefined => {
  return context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
});
