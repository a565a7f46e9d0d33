import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length, ValidateBy, ValidationArguments } from 'class-validator';
import { isAccountNumber } from '../../accounts/account-number';

/**
 * What verification of payee answers: the name is a holder's (`match`),
 * near one (`close_match`), another (`no_match`), or there is no open
 * account to check it against (`not_possible`).
 */
export const VERIFICATION_RESULTS = ['match', 'close_match', 'no_match', 'not_possible'] as const;
export type VerificationResult = (typeof VERIFICATION_RESULTS)[number];

/** Why `value` is no account number (11 digits, the last a Luhn check digit), or null. */
function accountNumberProblem(value: unknown): string | null {
  if (typeof value !== 'string' || !/^\d{11}$/.test(value)) {
    return 'accountNumber must be a string of 11 digits';
  }
  if (!isAccountNumber(value)) {
    return 'accountNumber has a wrong check digit (a digit mistyped or two swapped)';
  }
  return null;
}

export class VerifyPayeeDto {
  /** The payee's account number: 10 digits and a Luhn check digit. @example 10000000017 */
  @ValidateBy({
    name: 'isAccountNumber',
    validator: {
      validate: (value: unknown) => accountNumberProblem(value) === null,
      defaultMessage: (args?: ValidationArguments) =>
        accountNumberProblem(args?.value) ?? 'accountNumber is not valid',
    },
  })
  accountNumber!: string;

  /**
   * The payee's name as the payer knows it; case, accents, spacing,
   * punctuation and the order of first and last name do not matter.
   * @example Ada Lovelace
   */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 200)
  name!: string;
}

export class PayeeVerificationDto {
  /** The account number checked. @example 10000000017 */
  accountNumber!: string;

  /**
   * `match`: the name is a holder's. `close_match`: near one (a typo, a
   * missing middle name, an initial); `suggestedName` says the holder's
   * name. `no_match`: another name. `not_possible`: no open account has
   * this number.
   */
  @ApiProperty({ enum: VERIFICATION_RESULTS, example: 'close_match' })
  result!: VerificationResult;

  /** The account's currency, for `match` and `close_match` only (else null). */
  @ApiProperty({ type: String, nullable: true, example: 'EUR' })
  currency!: string | null;

  /** The holder's name as the bank has it ("First Last"), for `close_match` only (else null). */
  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace' })
  suggestedName!: string | null;
}
