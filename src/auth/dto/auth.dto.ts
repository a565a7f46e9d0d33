import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, MaxLength, MinLength } from 'class-validator';
import { Role } from '../../identity/role';
import { AnswerSchema, text } from '../../common/serialization';
import type { AuthUser } from '../auth-user';

export class LoginDto {
  /** @example admin */
  @IsString()
  @Length(1, 150)
  username!: string;

  /** @example paste-the-password-here */
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  password!: string;
}

export class RefreshDto {
  /** The refresh token from the last login or refresh. */
  @IsString()
  @Length(1, 512)
  refreshToken!: string;
}

export class VerifyDto {
  /** An access token or a refresh token. */
  @IsString()
  @Length(1, 8192)
  token!: string;
}

export class ChangePasswordDto {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  currentPassword!: string;

  /** 12 to 128 characters. */
  @IsString()
  @MinLength(12)
  @MaxLength(128)
  newPassword!: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'JWT to send as `Authorization: Bearer <accessToken>`' })
  accessToken!: string;

  @ApiProperty({ description: 'Opaque; single use: each refresh returns a new one' })
  refreshToken!: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType!: 'Bearer';

  /** Seconds until the access token expires. @example 900 */
  expiresIn!: number;

  /** Seconds until the refresh token expires. @example 1296000 */
  refreshExpiresIn!: number;
}

export class VerifyResultDto {
  @ApiProperty({ example: true })
  valid!: true;

  @ApiProperty({ enum: ['access', 'refresh'] })
  type!: 'access' | 'refresh';

  /** The user id. */
  sub!: string;

  /** Expiry in seconds since the epoch. @example 1767225600 */
  exp!: number;
}

export class MeDto {
  id!: string;
  /** @example admin */
  username!: string;
  @ApiProperty({ enum: Role, example: Role.Admin })
  role!: Role;
  /** The client a customer acts for; null for staff. */
  @ApiProperty({ type: String, nullable: true, format: 'uuid', example: null })
  clientId!: string | null;
}

/** What GET /auth/me answers of its caller. */
export const toMeDto = (user: AuthUser): MeDto => ({
  id: user.id,
  username: user.username,
  role: user.role,
  clientId: user.clientId,
});

/** MeDto for the serializer (see SerializedAs). */
export const ME_SCHEMA: AnswerSchema<MeDto> = {
  type: 'object',
  properties: { id: text(), username: text(), role: text(), clientId: text(true) },
};

export class SessionDto {
  id!: string;
  createdAt!: Date;
  lastUsedAt!: Date;
  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;
  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;
  /** True for the session of the token making this request. */
  current!: boolean;
}

export class SimpleJwtRefreshDto {
  @IsString()
  @Length(1, 512)
  refresh!: string;
}

export class SimpleJwtPairDto {
  access!: string;
  refresh!: string;
}
