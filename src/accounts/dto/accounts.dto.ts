import { IsId } from '../../common/validation';
import { AnswerSchema, dateTime, text } from '../../common/serialization';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  ValidateBy,
} from 'class-validator';
import { IsMoney } from '../../common/money.dto';
import { PageQuery } from '../../common/pagination';
import {
  ACCOUNT_STATUSES,
  AccountStatus,
  SETTABLE_STATUSES,
  SettableStatus,
  statusList,
} from '../account-status';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

export class OpenAccountDto {
  /** The clients who will hold the account: one, or several for a joint account. */
  @ApiProperty({
    type: [String],
    format: 'uuid',
    example: ['6f1c2b9e-3a4d-4c5e-8f70-1a2b3c4d5e6f'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @ArrayUnique()
  @IsId({ each: true })
  holderIds!: string[];

  /** ISO 4217 code; DEFAULT_CURRENCY when absent. @example EUR */
  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.toUpperCase() : value,
  )
  @ValidateBy({
    name: 'isCurrency',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && /^[A-Z]{3}$/.test(v) && CURRENCIES.has(v),
      defaultMessage: () => 'currency must be an ISO 4217 code such as EUR',
    },
  })
  currency?: string;

  @IsMoney({ allowZero: true, optional: true, example: '500.00' })
  overdraftLimit?: bigint;
}

export class UpdateAccountDto {
  /** active or frozen (close an account with POST /accounts/{id}/close). */
  @ApiPropertyOptional({ enum: SETTABLE_STATUSES })
  @IsOptional()
  @IsIn(SETTABLE_STATUSES, { message: `status must be ${statusList(SETTABLE_STATUSES)}` })
  status?: SettableStatus;

  @IsMoney({ allowZero: true, optional: true, example: '500.00' })
  overdraftLimit?: bigint;
}

export class AddHolderDto {
  @IsId()
  clientId!: string;
}

export class ListAccountsQuery extends PageQuery {
  /** Accounts held by this client. */
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  holderId?: string;

  @ApiPropertyOptional({ enum: AccountStatus })
  @IsOptional()
  @IsIn(ACCOUNT_STATUSES, { message: `status must be ${statusList(ACCOUNT_STATUSES)}` })
  status?: AccountStatus;
}

export class HolderDto {
  id!: string;
  firstName!: string;
  lastName!: string;
}

export class AccountDto {
  id!: string;
  /** 10 digits and a Luhn check digit. @example 10000000018 */
  number!: string;
  /** @example EUR */
  currency!: string;
  /** @example 1250.00 */
  balance!: string;
  /** @example 0.00 */
  overdraftLimit!: string;
  @ApiProperty({ enum: AccountStatus, example: AccountStatus.Active })
  status!: AccountStatus;
  @ApiProperty({ type: [HolderDto] })
  holders!: HolderDto[];
  openedAt!: Date;
  /** When it was closed; null while it is active or frozen. */
  @ApiProperty({ type: Date, nullable: true, example: null })
  closedAt!: Date | null;
}

/** AccountDto for the serializer (see SerializedAs). */
export const ACCOUNT_SCHEMA: AnswerSchema<AccountDto> = {
  type: 'object',
  properties: {
    id: text(),
    number: text(),
    currency: text(),
    balance: text(),
    overdraftLimit: text(),
    status: text(),
    holders: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: text(), firstName: text(), lastName: text() },
      },
    },
    openedAt: dateTime(),
    closedAt: dateTime(true),
  },
};
