/**
 * What the operations specs (test/operations/) check an operation against,
 * and what they read of an account's ledger.
 */
import type { Banking, Operation } from './banking';
import { cents } from './banking';
import { ISO_UTC, UUID } from './expect';

/** A money string as the API answers with it: two decimals, a sign only when negative. */
export const MONEY = /^-?\d+\.\d{2}$/;

/** The members of an operation (docs/api-guide.md, openapi.json), sorted. */
export const OPERATION_KEYS = [
  'accountId',
  'amount',
  'balanceAfter',
  'counterparty',
  'createdAt',
  'description',
  'id',
  'kind',
  'performedBy',
  'reversalOf',
  'reversedBy',
  'transferId',
  'type',
];

/** An operation with exactly its members, each of the right form, and the `expected` values. */
export function expectOperation(value: object, expected: Partial<Operation> = {}): void {
  const body = value as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(OPERATION_KEYS);
  expect(body.id).toMatch(UUID);
  expect(body.accountId).toMatch(UUID);
  expect(body.performedBy).toMatch(UUID);
  expect(body.amount).toMatch(MONEY);
  expect(cents(body.amount as string) > 0n).toBe(true);
  expect(body.balanceAfter).toMatch(MONEY);
  expect(body.createdAt).toMatch(ISO_UTC);
  expect(body).toEqual(expect.objectContaining(expected));
}

/** The number of operations of an account, as its list's total (200 expected). */
export async function countOperations(bank: Banking, accountId: string): Promise<number> {
  const res = await bank.operations(accountId, 'limit=1');
  expect(res.status).toBe(200);
  return res.body.total;
}

/** The UTC day `offsetDays` from today, as YYYY-MM-DD. */
export const day = (offsetDays: number) =>
  new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

/** The Luhn check digit of an account number's ten digits (src/accounts/account-number.ts). */
function checkDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/**
 * A well-formed account number (eleven digits, a valid check digit) that no
 * account has: the bank numbers its accounts from 1000000001, so one starting
 * with 9 stays free.
 */
export function unusedAccountNumber(): string {
  const body = `9${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
  return `${body}${checkDigit(body)}`;
}

/** An account number with its check digit wrong. */
export const withWrongCheckDigit = (number: string) =>
  `${number.slice(0, 10)}${(Number(number[10]) + 1) % 10}`;

/** A minimal RFC 4180 line splitter (quoted cells, doubled quotes). */
export function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

/** The counterparty cell of each line of a CSV statement, by operation id. */
export function csvCounterparties(csv: string): Map<string, string> {
  const lines = csv.split('\r\n').filter((line) => line !== '');
  expect(lines[0]).toBe('date,id,kind,type,description,counterparty,amount,balanceAfter');
  return new Map(
    lines.slice(1).map((line) => {
      const cells = csvCells(line);
      return [cells[1], cells[5]];
    }),
  );
}
