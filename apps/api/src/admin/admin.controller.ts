import { Controller, Delete, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthService, AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { AppConfig, NotFoundError } from '@app/core';
import { ErrorDto } from '../http/error.dto';
import { ADMIN_COOKIE, AdminAccess, bearerTokenOf } from './admin-access';

/**
 * Opening the operators' queue dashboard (`/api/admin/queues`) from a browser: an admin (role `admin`,
 * granted with `npm run admin -- grant <email>`) exchanges their Bearer token for an HttpOnly cookie scoped to /api/admin. Everyone else gets 404.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/session')
@UseGuards(JwtAuthGuard)
export class AdminController {
  constructor(
    private readonly access: AdminAccess,
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @HttpCode(204)
  @ApiOperation({ summary: 'Whether the caller is an admin (204) or not (404)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorDto })
  check(@CurrentUser() user: AuthUser): void {
    if (!this.access.isAdmin(user)) throw new NotFoundError('Not found');
  }

  @Post()
  @HttpCode(204)
  @ApiOperation({ summary: 'Set the cookie that opens /api/admin/queues in this browser (admins only)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorDto })
  open(@CurrentUser() user: AuthUser, @Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    if (!this.access.isAdmin(user)) throw new NotFoundError('Not found');
    const token = bearerTokenOf(req)!;
    res.cookie(ADMIN_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      // Production sits behind TLS, often a proxy that TRUST_PROXY does not name: Secure regardless.
      secure: req.secure || this.config.env === 'production',
      path: '/api/admin',
      maxAge: this.auth.expiresInSeconds(token) * 1000,
    });
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Forget the dashboard cookie' })
  @ApiNoContentResponse()
  close(@Res({ passthrough: true }) res: Response): void {
    res.clearCookie(ADMIN_COOKIE, { path: '/api/admin' });
  }
}
