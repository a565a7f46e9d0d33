import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from '../users/user.entity';
import { AuthController } from './auth.controller';
import { JwtAuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { CredentialsRepository } from './credentials.repository';
import { JwksController } from './jwks.controller';
import { JwtKeys } from './jwt-keys';
import { LoginFailuresRepository } from './login-failures.repository';
import { LoginThrottleService } from './login-throttle.service';
import { PasswordService } from './password.service';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { SimpleJwtController } from './simplejwt.controller';
import { TokensService } from './tokens.service';

@Module({
  imports: [TypeOrmModule.forFeature([User])],
  controllers: [AuthController, SimpleJwtController, JwksController],
  providers: [
    AuthService,
    CredentialsRepository,
    JwtKeys,
    LoginFailuresRepository,
    LoginThrottleService,
    PasswordService,
    SessionsRepository,
    SessionsService,
    TokensService,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [PasswordService, SessionsService, SessionsRepository, LoginFailuresRepository],
})
export class AuthModule {}
