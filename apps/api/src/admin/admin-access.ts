import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ExtractJwt } from 'passport-jwt';
import { AuthService, AuthUser } from '@app/auth';
import { cookieOf } from '../http/cookies';

/** Cookie that lets an admin's browser open the queue dashboard (HttpOnly, SameSite=Strict, path /api/admin). */
export const ADMIN_COOKIE = 'thumbs_admin';

/** A request's Bearer token, read as JwtAuthGuard reads it. */
export const bearerTokenOf: (req: Request) => string | null = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * Who is an admin: a signed-in user whose role in the database is `admin`, granted on the server
 * with `npm run admin -- grant <email>` (see Operators). The role is read on every request.
 */
@Injectable()
export class AdminAccess {
  constructor(private readonly auth: AuthService) {}

  isAdmin(user: AuthUser | undefined): boolean {
    return user?.role === 'admin';
  }

  /** The admin behind a request: its Bearer token, or the admin cookie. */
  async adminOf(req: Request): Promise<AuthUser | null> {
    const token = bearerTokenOf(req) ?? cookieOf(req, ADMIN_COOKIE);
    if (!token) return null;
    const user = await this.auth.verifyToken(token);
    return user && this.isAdmin(user) ? user : null;
  }
}
