import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import { parseMoney } from './money';

const MONEY_PATTERN = '^[0-9]{1,13}(\\.[0-9]{1,2})?$';

/**
 * A money field: a decimal string (or a JSON number with at most two
 * decimals) turned into bigint cents before validation; anything else is 400.
 */
export function IsMoney(
  options: { allowZero?: boolean; optional?: boolean; example?: string } = {},
) {
  const what = options.allowZero ? 'a non-negative amount' : 'a positive amount';
  const doc = {
    type: String,
    pattern: MONEY_PATTERN,
    example: options.example ?? '100.00',
    description: `${what} with at most two decimals and 13 integer digits, e.g. "1250.00" (a JSON number with at most two decimals is accepted too)`,
  };
  return applyDecorators(
    options.optional ? ApiPropertyOptional(doc) : ApiProperty(doc),
    Transform(({ value }: { value: unknown }) => parseMoney(value, options) ?? value),
    ValidateBy({
      name: 'isMoney',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'bigint' || (options.optional === true && value === undefined),
        defaultMessage: (args) =>
          `${args?.property ?? 'amount'} must be ${what} as a string like "1250.00" (at most two decimals, no exponent)`,
      },
    }),
  );
}
