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
