import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ExtractJwt } from 'passport-jwt';
import { AuthService, AuthUser } from '@app/auth';
import { AppConfig } from '@app/core';

/** Cookie that lets an admin's browser open the queue dashboard (HttpOnly, SameSite=Strict, path /api/admin). */
export const ADMIN_COOKIE = 'thumbs_admin';

/** A request's Bearer token, read as JwtAuthGuard reads it. */
export const bearerTokenOf: (req: Request) => string | null = ExtractJwt.fromAuthHeaderAsBearerToken();

/** Who is an admin: a signed-in user whose email is listed in ADMIN_EMAILS. */
@Injectable()
export class AdminAccess {
  constructor(
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {}

  isAdmin(user: AuthUser | undefined): boolean {
    return user !== undefined && this.config.auth.adminEmails.includes(user.email.toLowerCase());
  }

  /** The admin behind a request: its Bearer token, or the admin cookie. */
  async adminOf(req: Request): Promise<AuthUser | null> {
    const token = bearerTokenOf(req) ?? cookieOf(req, ADMIN_COOKIE);
    if (!token) return null;
    const user = await this.auth.verifyToken(token);
    return user && this.isAdmin(user) ? user : null;
  }
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}
