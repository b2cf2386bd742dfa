import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { API_KEY_SCOPES, ApiKeyScope, ApiKeyView, CreatedApiKeyView } from '@app/shared';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'backup script', minLength: 1, maxLength: 100, description: 'A label to recognise the key by' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  // No controls, format characters (bidi overrides, zero-width spaces) or line separators: a name
  // is shown in lists where such characters could make one key pass for another, nor lone
  // surrogates. The joiners emoji and some scripts need stay, as in file names, and so do the tag
  // characters of flag emoji (🏴 + tags).
  @Matches(/^(?:[^\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]|\u200c|\u200d|[\u{e0020}-\u{e007f}])*$/u, {
    message: 'name must not contain control or invisible formatting characters',
  })
  name!: string;

  @ApiProperty({
    enum: API_KEY_SCOPES,
    isArray: true,
    example: ['read', 'upload'],
    description: '`read`: GET routes and the socket; `upload`: upload and retry; `delete`: delete and bulk delete',
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(API_KEY_SCOPES.length)
  @IsIn(API_KEY_SCOPES, { each: true })
  scopes!: ApiKeyScope[];
}

export class ApiKeyDto implements ApiKeyView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'backup script' })
  name!: string;

  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true })
  scopes!: ApiKeyScope[];

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'Last request with this key (to the minute)' })
  lastUsedAt!: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto implements CreatedApiKeyView {
  @ApiProperty({
    example: 'thumbs_4Jq0m2w8YQ0b7Hh3vYp2cXr9aT1sLk5eN6uZ8oD3fGi',
    description: 'The key, shown this once: send it as `Authorization: Bearer thumbs_…` or as the Socket.IO `auth.token`',
  })
  key!: string;
}
