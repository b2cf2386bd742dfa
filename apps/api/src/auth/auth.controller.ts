import { Body, Controller, Get, HttpCode, Ip, Post, UseGuards } from '@nestjs/common';
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
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { AuthService, AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { RateLimitGuard } from '../http/rate-limit';
import { ErrorDto } from '../http/error.dto';
import { AuthResultDto, CredentialsDto, LoginDto, UserDto } from './auth.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @UseGuards(RateLimitGuard)
  @SkipThrottle({ uploads: true })
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
  register(@Body() body: CredentialsDto): Promise<AuthResultDto> {
    return this.auth.register(body.email, body.password);
  }

  @Post('login')
  @HttpCode(200)
  @UseGuards(RateLimitGuard)
  @SkipThrottle({ uploads: true })
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
  login(@Body() body: LoginDto, @Ip() ip: string): Promise<AuthResultDto> {
    return this.auth.login(body.email, body.password, ip);
  }

  @Get('me')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserDto })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  me(@CurrentUser() user: AuthUser): Promise<UserDto> {
    return this.auth.me(user.id);
  }
}
