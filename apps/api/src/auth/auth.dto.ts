import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength, MinLength, registerDecorator, ValidationOptions } from 'class-validator';
import { hasInvisibleCharacters } from '@app/auth';
import { AuthResult, PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH, UserView } from '@app/shared';

/** Surrounding spaces (a pasted address) are not part of an email. */
const Trim = () => Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** bcrypt only reads 72 bytes, so the limit is in UTF-8 bytes, not characters. */
function MaxUtf8Bytes(max: number, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'maxUtf8Bytes',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be at most ${max} bytes long (UTF-8)`, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && Buffer.byteLength(value, 'utf8') <= max },
    });
}

/** Refuses bidi controls and invisible characters (an address that could pass for another). */
function Visible(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'visible',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must not contain invisible or text-direction characters`, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && !hasInvisibleCharacters(value) },
    });
}

export class CredentialsDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Trim()
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @Visible()
  email!: string;

  @ApiProperty({
    example: 'correct horse battery staple',
    minLength: PASSWORD_MIN_LENGTH,
    description: `${PASSWORD_MIN_LENGTH} characters to ${PASSWORD_MAX_BYTES} bytes`,
  })
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH)
  @MaxUtf8Bytes(PASSWORD_MAX_BYTES)
  password!: string;
}

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Trim()
  @IsString()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @MaxLength(1024)
  password!: string;
}

export class UserDto implements UserView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class AuthResultDto implements AuthResult {
  @ApiProperty({ description: 'JWT to send as `Authorization: Bearer <token>` and as the Socket.IO `auth.token`' })
  accessToken!: string;

  @ApiProperty({ example: 3600, description: 'Seconds until the token expires' })
  expiresIn!: number;

  @ApiProperty({ type: UserDto })
  user!: UserDto;
}
