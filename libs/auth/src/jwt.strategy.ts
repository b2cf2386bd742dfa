import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '@app/core';
import { AuthService, AuthUser } from './auth.service';
import { jwtKey } from './jwt-key';

/** passport-jwt: a Bearer token signed with JWT_SECRET, not expired, whose user still exists. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    private readonly auth: AuthService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // The key object, not the string (see jwtKey); passport-jwt hands it to jsonwebtoken as is,
      // which takes KeyObjects, although passport-jwt's types only name strings and Buffers.
      secretOrKey: jwtKey(config.auth.jwtSecret) as unknown as Buffer,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  validate(payload: { sub: string; email: string }): Promise<AuthUser | null> {
    return this.auth.userOf(payload);
  }
}
