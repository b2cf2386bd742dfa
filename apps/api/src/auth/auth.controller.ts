import { Body, Controller, Get, HttpCode, Ip, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiBadRequestResponse,
  ApiCookieAuth,
  ApiNoContentResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { SkipThrottle } from '@nestjs/throttler';
import { AuthService, AuthUser, CurrentUser, JwtAuthGuard, SessionsService } from '@app/auth';
import { AppConfig, UnauthorizedError } from '@app/core';
import { RateLimitGuard } from '../http/rate-limit';
import { ErrorDto } from '../http/error.dto';
import { ApiKeyAccess } from '../http/api-key-security';
import { cookieOf } from '../http/cookies';
import { AuthResultDto, CredentialsDto, LoginDto, UserDto } from './auth.dto';

/** The refresh cookie: HttpOnly (no script reads it), SameSite=Strict (no other site sends it), only sent to /api/auth. */
export const REFRESH_COOKIE = 'thumbs_refresh';
const REFRESH_COOKIE_PATH = '/api/auth';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly config: AppConfig,
  ) {}

  @Post('register')
  @UseGuards(RateLimitGuard)
  @SkipThrottle({ uploads: true, archives: true })
  @ApiTooManyRequestsResponse({ type: ErrorDto, description: 'Too many requests from this address' })
  @ApiOperation({ summary: 'Create an account and sign in' })
  @ApiBody({ type: CredentialsDto })
  @ApiCreatedResponse({ type: AuthResultDto })
  @ApiBadRequestResponse({
    type: ErrorDto,
    description:
      'Invalid email (also one holding invisible or text-direction characters), or a password shorter than 8 characters or longer than 72 bytes',
  })
  @ApiConflictResponse({ type: ErrorDto, description: 'Email already registered' })
  async register(@Body() body: CredentialsDto, @Res({ passthrough: true }) res: Response): Promise<AuthResultDto> {
    const sessionId = this.sessions.newSessionId();
    const result = await this.auth.register(body.email, body.password, sessionId);
    await this.startSession(res, result.user.id, sessionId);
    return result;
  }

  @Post('login')
  @HttpCode(200)
  @UseGuards(RateLimitGuard)
  @SkipThrottle({ uploads: true, archives: true })
  @ApiOperation({ summary: 'Sign in with email and password' })
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ type: AuthResultDto })
  @ApiUnauthorizedResponse({
    type: ErrorDto,
    description: '`Invalid email or password`, whichever of the two is wrong (a password past 72 bytes is always wrong)',
  })
  @ApiTooManyRequestsResponse({
    type: ErrorDto,
    description:
      'Too many failed attempts for this email from this address (5 in 15 minutes), from this address (50), or for this email from anywhere (100: addresses that failed for it); see Retry-After',
  })
  async login(@Body() body: LoginDto, @Ip() ip: string, @Res({ passthrough: true }) res: Response): Promise<AuthResultDto> {
    const sessionId = this.sessions.newSessionId();
    const result = await this.auth.login(body.email, body.password, ip, sessionId);
    await this.startSession(res, result.user.id, sessionId);
    return result;
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiCookieAuth(REFRESH_COOKIE)
  @ApiOperation({
    summary: 'A new access token from the refresh cookie',
    description:
      'The refresh cookie (set by register and login; HttpOnly, SameSite=Strict, path /api/auth) is exchanged for a new one. ' +
      'A refresh token that was already exchanged ends the whole session (every token of that sign-in): 401.',
  })
  @ApiOkResponse({ type: AuthResultDto, description: 'Same shape as login; the cookie holds the next refresh token' })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'No cookie, or an unknown, expired, revoked or reused refresh token' })
  async refresh(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<AuthResultDto> {
    const presented = cookieOf(req, REFRESH_COOKIE);
    if (!presented) throw new UnauthorizedError('No session to refresh: sign in.');
    try {
      const { result, refresh } = await this.sessions.refresh(presented);
      this.setCookie(res, refresh.token, refresh.expiresAt);
      return result;
    } catch (error) {
      if (error instanceof UnauthorizedError) this.clearCookie(res);
      throw error;
    }
  }

  @Post('logout')
  @HttpCode(204)
  @ApiCookieAuth(REFRESH_COOKIE)
  @ApiOperation({
    summary: 'Sign out: ends the session of the refresh cookie and clears it',
    description: 'Its refresh token and the access tokens it issued stop working at once; open sockets of that session are closed.',
  })
  @ApiNoContentResponse({ description: 'Signed out (also when there was no session)' })
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.end(cookieOf(req, REFRESH_COOKIE));
    this.clearCookie(res);
  }

  private async startSession(res: Response, userId: string, sessionId: string): Promise<void> {
    const refresh = await this.sessions.start(userId, sessionId);
    this.setCookie(res, refresh.token, refresh.expiresAt);
  }

  private setCookie(res: Response, token: string, expires: Date): void {
    res.cookie(REFRESH_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.env === 'production',
      path: REFRESH_COOKIE_PATH,
      expires,
    });
  }

  private clearCookie(res: Response): void {
    res.clearCookie(REFRESH_COOKIE, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.env === 'production',
      path: REFRESH_COOKIE_PATH,
    });
  }

  @Get('me')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiKeyAccess('read')
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserDto })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  me(@CurrentUser() user: AuthUser): Promise<UserDto> {
    return this.auth.me(user.id);
  }
}
