import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from '../identity/user.entity';
import { AuthController } from './auth.controller';
import { JwtAuthGuard } from './guard/auth.guard';
import { AuthService } from './auth.service';
import { CredentialsRepository } from './login/credentials.repository';
import { JwksController } from './tokens/jwks.controller';
import { JwtKeys } from './tokens/jwt-keys';
import { JwtKeysModule, jwtModuleOptions } from './tokens/jwt-keys.module';
import { jwtStrategyProvider } from './guard/jwt.strategy';
import { AccessTokenCache } from './guard/access-token-cache';
import { AppConfig } from '../config/app-config';
import { LoginFailuresRepository } from './login/login-failures.repository';
import { LoginThrottleService } from './login/login-throttle.service';
import { PasswordService } from './login/password.service';
import { SessionsRepository } from './sessions/sessions.repository';
import { SessionsService } from './sessions/sessions.service';
import { SimpleJwtController } from './django-compat/simplejwt.controller';
import { TokensService } from './tokens/tokens.service';

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
  exports: [PasswordService, SessionsService, LoginThrottleService, AccessTokenCache],
})
export class AuthModule {}
