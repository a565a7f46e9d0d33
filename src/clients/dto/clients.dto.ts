import {
  ApiHideProperty,
  ApiProperty,
  ApiPropertyOptional,
  PartialType,
  PickType,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsEmail,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import { PageQuery } from '../../common/pagination';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateClientDto {
  /** National identity number; unique, and never changes. @example 8001015009087 */
  @Transform(trim)
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9 ./-]{0,31}$/, {
    message: 'nationalId must be 1 to 32 letters, digits, spaces or . / -',
  })
  nationalId!: string;

  /** @example Ada */
  @Transform(trim)
  @IsString()
  @Length(1, 100)
  firstName!: string;

  /** @example Lovelace */
  @Transform(trim)
  @IsString()
  @Length(1, 100)
  lastName!: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: '12 Queen Street, London' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(255)
  address?: string | null;

  /** @example ada@example.com */
  @ApiPropertyOptional({ type: String, nullable: true, format: 'email' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsEmail()
  @MaxLength(254)
  email?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '+44 20 7946 0000' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Matches(/^\+?[0-9][0-9 ().-]{2,31}$/, {
    message: 'phone must be digits, spaces, ( ) . - and an optional leading +',
  })
  phone?: string | null;
}

/** Every field but nationalId, which is immutable. */
export class UpdateClientDto extends PartialType(
  PickType(CreateClientDto, ['firstName', 'lastName', 'address', 'email', 'phone'] as const),
) {
  @ApiHideProperty()
  @IsOptional()
  @ValidateBy({
    name: 'immutable',
    validator: { validate: () => false, defaultMessage: () => 'nationalId is immutable' },
  })
  nationalId?: never;
}

export class ListClientsQuery extends PageQuery {
  /** Case-insensitive prefix of the national id. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  nationalId?: string;

  /** Case-insensitive prefix of the last name. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  lastName?: string;

  /** Case-insensitive prefix of the first name. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  firstName?: string;

  /** Case-insensitive prefix of the national id, last name or first name. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

export class ClientDto {
  id!: string;
  nationalId!: string;
  firstName!: string;
  lastName!: string;
  @ApiProperty({ type: String, nullable: true })
  address!: string | null;
  @ApiProperty({ type: String, nullable: true })
  email!: string | null;
  @ApiProperty({ type: String, nullable: true })
  phone!: string | null;
  createdAt!: Date;
}
