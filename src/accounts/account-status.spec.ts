import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  ACCOUNT_STATUS_POLICY,
  ACCOUNT_STATUSES,
  AccountStatus,
  permits,
  SETTABLE_STATUSES,
  STATUS_CHECK_SQL,
  statusPermitsSql,
} from './account-status';
import { ListAccountsQuery, UpdateAccountDto } from './dto/accounts.dto';
import { notActive, requirePermission } from './account.errors';

describe('account statuses', () => {
  // The policy, written out: a new status adds a row here, in account-status.ts, and in a
  // migration that widens accounts_status_check.
  const table: Record<string, string> = {
    //                 credit debit reverse holders settings close holds settable
    [AccountStatus.Active]: 'yes    yes   yes     yes     yes      yes   yes   yes',
    [AccountStatus.Frozen]: 'no     no    yes     yes     yes      yes   no    yes',
    [AccountStatus.Closed]: 'no     no    no      no      no       no    no    no',
  };
  const columns = [
    'credit',
    'debit',
    'reverse',
    'holderChanges',
    'settingsChanges',
    'close',
    'newHolds',
    'settable',
  ] as const;

  it('lists each status with exactly these permissions', () => {
    expect([...ACCOUNT_STATUSES].sort()).toEqual(Object.keys(table).sort());
    for (const status of ACCOUNT_STATUSES) {
      const expected = Object.fromEntries(
        table[status].split(/\s+/).map((v, i) => [columns[i], v === 'yes']),
      );
      expect({ status, ...ACCOUNT_STATUS_POLICY[status] }).toEqual({ status, ...expected });
    }
  });

  it('permits nothing to a status it does not know', () => {
    for (const what of columns.filter((c) => c !== 'settable')) {
      expect(permits('suspended', what)).toBe(false);
      expect(permits(null, what)).toBe(false);
    }
  });

  it('refuses what a status does not permit with 409 ACCOUNT_NOT_ACTIVE naming the status', () => {
    expect(() => requirePermission('active', 'debit')).not.toThrow();
    expect(() => requirePermission('frozen', 'reverse')).not.toThrow();
    for (const [status, what] of [
      ['frozen', 'debit'],
      ['frozen', 'credit'],
      ['closed', 'reverse'],
      ['closed', 'holderChanges'],
    ] as const) {
      let thrown: unknown;
      try {
        requirePermission(status, what);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toEqual(notActive(status));
      expect(thrown).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE', status: 409 });
      expect((thrown as Error).message).toBe(`The account is ${status}`);
    }
  });

  it('gives the ledger SQL conditions that list the permitting statuses', () => {
    expect(statusPermitsSql('src.status', 'debit')).toBe(`src.status IN ('active')`);
    expect(statusPermitsSql('status', 'reverse')).toBe(`status IN ('active', 'frozen')`);
    expect(STATUS_CHECK_SQL).toBe(`status IN ('active', 'frozen', 'closed')`);
  });

  it('derives the DTOs: PATCH takes the settable statuses, the list filter any status', () => {
    expect(SETTABLE_STATUSES).toEqual(['active', 'frozen']);
    const patch = (status: string) =>
      validateSync(plainToInstance(UpdateAccountDto, { status })).flatMap((e) =>
        Object.values(e.constraints ?? {}),
      );
    expect(patch('frozen')).toEqual([]);
    expect(patch('closed')).toEqual(['status must be active or frozen']);
    const list = (status: string) =>
      validateSync(plainToInstance(ListAccountsQuery, { status })).flatMap((e) =>
        Object.values(e.constraints ?? {}),
      );
    expect(list('closed')).toEqual([]);
    expect(list('gone')).toEqual(['status must be active, frozen or closed']);
  });
});
