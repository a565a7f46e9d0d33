import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from '../users/user.entity';
import { AuthController } from './auth.controller';
import { JwtAuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { CredentialsRepository } from './credentials.repository';
import { JwksController } from './jwks.controller';
import { JwtKeys } from './jwt-keys';
import { JwtKeysModule, jwtModuleOptions } from './jwt-keys.module';
import { jwtStrategyProvider } from './jwt.strategy';
import { AccessTokenCache } from './access-token-cache';
import { AppConfig } from '../config/app-config';
import { LoginFailuresRepository } from './login-failures.repository';
import { LoginThrottleService } from './login-throttle.service';
import { PasswordService } from './password.service';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { SimpleJwtController } from './simplejwt.controller';
import { TokensService } from './tokens.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([User]),
    PassportModule,
    JwtKeysModule,
    JwtModule.registerAsync({
      imports: [JwtKeysModule],
      inject: [JwtKeys, AppConfig],
      useFactory: jwtModuleOptions,
    }),
  ],
  controllers: [AuthController, SimpleJwtController, JwksController],
  providers: [
    AuthService,
    CredentialsRepository,
    AccessTokenCache,
    jwtStrategyProvider,
    LoginFailuresRepository,
    LoginThrottleService,
    PasswordService,
    SessionsRepository,
    SessionsService,
    TokensService,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [
    PasswordService,
    SessionsService,
    SessionsRepository,
    LoginFailuresRepository,
    AccessTokenCache,
  ],
})
export class AuthModule {}
