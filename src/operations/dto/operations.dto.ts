import { IsId } from '../../common/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import { IsMoney } from '../../common/money.dto';
import { PageQuery } from '../../common/pagination';
import { AccountDto } from '../../accounts/dto/accounts.dto';
import { isAccountNumber } from '../../accounts/account-number';
import {
  OPERATION_KINDS,
  OPERATION_TYPES,
  OperationKind,
  OperationType,
} from '../operation.entity';

/** YYYY-MM-DD (a whole UTC day) or a full ISO 8601 timestamp. */
export const DATE_OR_TIMESTAMP =
  /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export function parseDayOrInstant(text: string): { start: Date; endExclusive: Date } | null {
  if (!DATE_OR_TIMESTAMP.test(text)) return null;
  const isDay = text.length === 10;
  const start = new Date(isDay ? `${text}T00:00:00.000Z` : text);
  if (Number.isNaN(start.getTime())) return null;
  if (isDay && start.toISOString().slice(0, 10) !== text) return null; // 2026-02-30
  const endExclusive = new Date(start.getTime() + (isDay ? 86_400_000 : 1));
  return { start, endExclusive };
}

export const IsDayOrInstant = () =>
  ValidateBy({
    name: 'isDayOrInstant',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && parseDayOrInstant(v) !== null,
      defaultMessage: (args) =>
        `${args?.property} must be a date YYYY-MM-DD (UTC) or an ISO 8601 timestamp`,
    },
  });

export class MoneyMovementDto {
  @IsMoney({ example: '100.00' })
  amount!: bigint;

  /** @example Salary */
  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  description?: string;
}

const ONE_DESTINATION = 'give exactly one of toAccountId and toAccountNumber';

/** Not both destinations: each field then says so. */
const notBothDestinations = () =>
  ValidateBy({
    name: 'oneDestination',
    validator: {
      validate: (_: unknown, args) => {
        const dto = args?.object as TransferDto;
        return dto.toAccountId === undefined || dto.toAccountNumber === undefined;
      },
      defaultMessage: () => ONE_DESTINATION,
    },
  });

/**
 * Validates a destination field when it is given, and when neither is: both
 * are then named as required (see flattenValidationErrors).
 */
const destinationGiven = (field: 'toAccountId' | 'toAccountNumber') =>
  ValidateIf(
    (o: TransferDto) =>
      o[field] !== undefined || (o.toAccountId === undefined && o.toAccountNumber === undefined),
  );

/** An account number: 11 digits, the last a Luhn check digit of the first ten. */
const IsAccountNumber = () =>
  ValidateBy({
    name: 'isAccountNumber',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && isAccountNumber(v),
      defaultMessage: (args) =>
        `${args?.property} must be an account number: 11 digits, the last a check digit`,
    },
  });

export class TransferDto extends MoneyMovementDto {
  /** An account you may debit. @example 0f8e2b7c-1d3a-4e5f-9a6b-7c8d9e0f1a2b */
  @IsId()
  fromAccountId!: string;

  /**
   * Any other account in the same currency; or give toAccountNumber.
   * @example 5c4b3a29-1807-4f6e-8d5c-4b3a29180706
   */
  @destinationGiven('toAccountId')
  @notBothDestinations()
  @IsId()
  @ValidateBy({
    name: 'differentAccount',
    validator: {
      validate: (value: unknown, args) => value !== (args?.object as TransferDto).fromAccountId,
      defaultMessage: () => 'toAccountId must differ from fromAccountId',
    },
  })
  toAccountId?: string;

  /**
   * The payee's account number (as its statements show it), instead of toAccountId.
   * @example 10000000017
   */
  @destinationGiven('toAccountNumber')
  @notBothDestinations()
  @IsAccountNumber()
  toAccountNumber?: string;
}

export class ReverseDto {
  @ApiPropertyOptional({ maxLength: 255, example: 'Entered twice by mistake' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  description?: string;
}

export class OperationFilters extends PageQuery {
  @ApiPropertyOptional({ enum: OPERATION_TYPES })
  @IsOptional()
  @IsIn(OPERATION_TYPES, { message: 'type must be credit or debit' })
  type?: OperationType;

  @ApiPropertyOptional({ enum: OPERATION_KINDS })
  @IsOptional()
  @IsIn(OPERATION_KINDS, { message: 'kind must be deposit, withdrawal, transfer or reversal' })
  kind?: OperationKind;

  /** From this day (UTC, inclusive) or instant. @example 2026-01-01 */
  @IsOptional()
  @IsDayOrInstant()
  from?: string;

  /** To this day (UTC, inclusive) or instant. @example 2026-12-31 */
  @IsOptional()
  @IsDayOrInstant()
  to?: string;
}

export class ListOperationsQuery extends OperationFilters {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  accountId?: string;
}

export class StatementQuery {
  /** First day, YYYY-MM-DD (UTC, inclusive); default the opening day. */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'from must be a date YYYY-MM-DD' })
  @IsDayOrInstant()
  from?: string;

  /** Last day, YYYY-MM-DD (UTC, inclusive); default today. */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'to must be a date YYYY-MM-DD' })
  @IsDayOrInstant()
  to?: string;

  /** csv for a CSV download (or send Accept: text/csv). */
  @ApiPropertyOptional({ enum: ['json', 'csv'] })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

/** The other account of a transfer, as a bank statement names it. */
export class CounterpartyDto {
  /** @example 10000000025 */
  accountNumber!: string;
  /** Its holders, in the order they were added, joined by " & ". @example Grace Hopper */
  name!: string;
}

const COUNTERPARTY_EXAMPLE = { accountNumber: '10000000025', name: 'Grace Hopper' };

export class OperationDto {
  id!: string;
  accountId!: string;
  // The example is one transfer's debit leg, as its transferId and counterparty say.
  @ApiProperty({ enum: OPERATION_TYPES, example: 'debit' })
  type!: OperationType;
  @ApiProperty({ enum: OPERATION_KINDS, example: 'transfer' })
  kind!: OperationKind;
  /** @example 100.00 */
  amount!: string;
  /** The account's balance right after this operation. @example 1350.00 */
  balanceAfter!: string;
  @ApiProperty({ type: String, nullable: true })
  description!: string | null;
  /** Shared by the two legs of a transfer. */
  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  transferId!: string | null;
  /** The operation this one compensates. */
  @ApiProperty({ type: String, nullable: true, format: 'uuid', example: null })
  reversalOf!: string | null;
  /** The operation that compensates this one. */
  @ApiProperty({ type: String, nullable: true, format: 'uuid', example: null })
  reversedBy!: string | null;
  /**
   * The other account of a transfer (or of the reversal of one): its number
   * and its holders' names; null for deposits, withdrawals and their reversals.
   */
  @ApiProperty({ type: CounterpartyDto, nullable: true, example: COUNTERPARTY_EXAMPLE })
  counterparty!: CounterpartyDto | null;
  /** The user who did it. */
  @ApiProperty({ format: 'uuid' })
  performedBy!: string;
  createdAt!: Date;
}

/** The credit leg of a payment into an account the customer does not hold. */
export class OperationSummaryDto {
  id!: string;
  accountId!: string;
  @ApiProperty({ enum: OPERATION_TYPES })
  type!: OperationType;
  amount!: string;
  createdAt!: Date;
  @ApiProperty({ type: CounterpartyDto, nullable: true, example: COUNTERPARTY_EXAMPLE })
  counterparty!: CounterpartyDto | null;
}

export class TransferResultDto {
  /** The transfer id (the transferId of both legs). */
  id!: string;
  /** @example 25.00 */
  amount!: string;
  @ApiProperty({
    type: OperationDto,
    example: {
      id: '9d1c4a7e-2b3f-4c5d-8e6f-7a8b9c0d1e2f',
      accountId: '0f8e2b7c-1d3a-4e5f-9a6b-7c8d9e0f1a2b',
      type: 'debit',
      kind: 'transfer',
      amount: '25.00',
      balanceAfter: '975.00',
      description: 'Rent share',
      transferId: '3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9',
      reversalOf: null,
      reversedBy: null,
      counterparty: { accountNumber: '10000000025', name: 'Ada Lovelace & Charles Babbage' },
      performedBy: '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d',
      createdAt: '2026-11-22T09:00:00.000Z',
    },
  })
  debit!: OperationDto;
  @ApiProperty({
    description:
      'The full operation, or only {id, accountId, type, amount, createdAt, counterparty} when the caller does not hold the receiving account',
    type: OperationDto,
  })
  credit!: OperationDto | OperationSummaryDto;
}

export class StatementDto {
  @ApiProperty({ type: AccountDto })
  account!: AccountDto;
  /** @example 2026-01-01 */
  from!: string;
  /** @example 2026-01-31 */
  to!: string;
  /** @example 1000.00 */
  openingBalance!: string;
  /** @example 1250.00 */
  closingBalance!: string;
  /** @example 400.00 */
  totalCredits!: string;
  /** @example 150.00 */
  totalDebits!: string;
  @ApiProperty({ type: [OperationDto], description: 'Oldest first' })
  operations!: OperationDto[];
}
