import { createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { UnauthorizedError } from '@app/core';
import type { AuthUser } from './auth.service';

/** Requires a valid Bearer token; puts the caller on `request.user`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  override handleRequest<TUser = AuthUser>(error: unknown, user: TUser | false): TUser {
    if (error) throw error instanceof Error ? error : new UnauthorizedError('Sign in required: the access token could not be checked');
    if (!user) throw new UnauthorizedError('Sign in required: missing, invalid or expired access token');
    return user;
  }
}

/**
 * Like JwtAuthGuard, but lets requests without a valid token through (with no `request.user`), for
 * routes that also accept another credential such as a signed URL.
 */
@Injectable()
export class OptionalJwtAuthGuard extends AuthGuard('jwt') {
  override handleRequest<TUser = AuthUser>(_error: unknown, user: TUser | false): TUser {
    return (user || undefined) as TUser;
  }
}

/** The authenticated caller of a route behind JwtAuthGuard. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthUser | undefined => {
  return context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
});
