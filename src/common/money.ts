import { NumberText } from './json-body';

/**
 * Money is integer minor units (cents) as bigint, everywhere: in the database
 * (bigint columns), in code, and in sums. It is parsed from the contract's
 * decimal strings or JSON numbers and printed with exactly two decimals.
 * Binary floating point never holds an amount.
 */
export type Cents = bigint;

const MONEY_TEXT = /^([0-9]{1,13})(?:\.([0-9]{1,2}))?$/;

export interface ParseMoneyOptions {
  /** Accept 0 (an overdraft limit may be zero; an amount may not). */
  allowZero?: boolean;
}

/**
 * Reads an amount from a request: a string matching
 * ^[0-9]{1,13}(\.[0-9]{1,2})?$ or a JSON number with at most two decimals.
 * Returns null for anything else (negative, zero unless allowed, more than two
 * decimals, exponents, NaN, more than 13 integer digits, other types).
 */
export function parseMoney(input: unknown, options: ParseMoneyOptions = {}): Cents | null {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else if (input instanceof NumberText) {
    // A JSON number as written, more precise than a double: judged by its digits.
    text = input.text;
  } else if (typeof input === 'number' && Number.isFinite(input)) {
    // The shortest round-trip text of the number: 12.5 -> "12.5", 0.1 + 0.2 ->
    // "0.30000000000000004" (refused), 1e21 -> "1e+21" (refused).
    text = Object.is(input, -0) ? '0' : String(input);
  } else {
    return null;
  }
  const match = MONEY_TEXT.exec(text);
  if (!match) return null;
  const cents = BigInt(match[1]) * 100n + BigInt((match[2] ?? '').padEnd(2, '0'));
  if (cents === 0n && !options.allowZero) return null;
  return cents;
}

/** "1250.00", "-3.05", "0.00": exactly two decimals. */
export function formatMoney(cents: Cents): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const units = abs / 100n;
  const fraction = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${units.toString()}.${fraction}`;
}
