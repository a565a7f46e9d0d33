import { IsId } from '../../common/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsEnum,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { Role } from '../../identity/role';

export const USERNAME_PATTERN = /^[A-Za-z0-9_.@+-]{1,150}$/;

export class CreateUserDto {
  /** Letters, digits and _ . @ + - (1 to 150). @example teller1 */
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 1 to 150 letters, digits or _ . @ + -' })
  username!: string;

  /** 12 to 128 characters. @example a-long-teller-password */
  @IsString()
  @MinLength(12)
  @MaxLength(128)
  password!: string;

  @ApiProperty({ enum: Role, example: Role.Teller })
  @IsEnum(Role)
  role!: Role;

  /** Required for a customer, absent for staff. */
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String })
  @IsOptional()
  @IsId()
  clientId?: string | null;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ enum: Role })
  @IsOptional()
  @IsEnum(Role)
  role?: Role;

  /** A customer's client; null to unlink when becoming staff. */
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String })
  @ValidateIf((_, v) => v !== null)
  @IsOptional()
  @IsId()
  clientId?: string | null;

  /** Disabling revokes every session of the user. */
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  /** A new password (12 to 128); revokes every session of the user. */
  @IsOptional()
  @IsString()
  @MinLength(12)
  @MaxLength(128)
  password?: string;
}

export class ListUsersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: Role })
  @IsOptional()
  @IsEnum(Role)
  role?: Role;
}

export class UserDto {
  id!: string;
  username!: string;
  @ApiProperty({ enum: Role, example: Role.Teller })
  role!: Role;
  /** The client a customer acts for; null for staff. */
  @ApiProperty({ type: String, nullable: true, format: 'uuid', example: null })
  clientId!: string | null;
  disabled!: boolean;
  createdAt!: Date;
  @ApiProperty({ type: Date, nullable: true })
  lastLoginAt!: Date | null;
}
