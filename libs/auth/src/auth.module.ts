import { DynamicModule, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { MongooseModule } from '@nestjs/mongoose';
import { PassportModule } from '@nestjs/passport';
import { AppConfig, DatabaseConfig } from '@app/core';
import { AuthService } from './auth.service';
import { JwtAuthGuard, OptionalJwtAuthGuard } from './jwt-auth.guard';
import { jwtKey } from './jwt-key';
import { JwtStrategy } from './jwt.strategy';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { MongoUsersRepository, UserDocument, UserSchema } from './persistence/mongo-users.repository';
import { SqliteUsersRepository } from './persistence/sqlite-users.repository';
import { MongoRefreshTokensRepository, RefreshTokenDocument, RefreshTokenSchema } from './persistence/mongo-refresh-tokens.repository';
import { SqliteRefreshTokensRepository } from './persistence/sqlite-refresh-tokens.repository';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { SessionsService } from './sessions.service';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyDocument, ApiKeySchema, MongoApiKeysRepository } from './persistence/mongo-api-keys.repository';
import { SqliteApiKeysRepository } from './persistence/sqlite-api-keys.repository';
import { UrlSigner } from './url-signer';
import { UsersRepository } from './users.repository';

/** Users, passwords, tokens, refresh sessions, API keys and signed URLs. The adapters follow DATABASE_URL. */
@Module({})
export class AuthModule {
  static forRoot(database: DatabaseConfig): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        PassportModule,
        JwtModule.registerAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => {
            const key = jwtKey(config.auth.jwtSecret);
            return { secretOrKeyProvider: () => key, signOptions: { algorithm: 'HS256' } };
          },
        }),
        ...(database.kind === 'mongo'
          ? [
              MongooseModule.forFeature([
                { name: UserDocument.name, schema: UserSchema },
                { name: RefreshTokenDocument.name, schema: RefreshTokenSchema },
                { name: ApiKeyDocument.name, schema: ApiKeySchema },
              ]),
            ]
          : []),
      ],
      providers: [
        { provide: UsersRepository, useClass: database.kind === 'mongo' ? MongoUsersRepository : SqliteUsersRepository },
        {
          provide: RefreshTokensRepository,
          useClass: database.kind === 'mongo' ? MongoRefreshTokensRepository : SqliteRefreshTokensRepository,
        },
        SessionsService,
        { provide: ApiKeysRepository, useClass: database.kind === 'mongo' ? MongoApiKeysRepository : SqliteApiKeysRepository },
        ApiKeysService,
        PasswordHasher,
        LoginThrottle,
        AuthService,
        JwtStrategy,
        JwtAuthGuard,
        OptionalJwtAuthGuard,
        UrlSigner,
      ],
      exports: [
        AuthService,
        SessionsService,
        ApiKeysService,
        UsersRepository,
        JwtAuthGuard,
        OptionalJwtAuthGuard,
        UrlSigner,
        LoginThrottle,
      ],
    };
  }
}
