/** The money rule: balance = credits - debits on every account, and every transfer balanced. */
import { TestApp, bearer } from '../helpers/app';
import { Account, Banking, Operation, allPages, cents } from '../helpers/banking';
import { expectProblem } from '../helpers/expect';
import { withTeller } from '../helpers/fixture';

describe('operations', () => {
  let t: TestApp;
  let teller: string;
  /** The teller's money routes. */
  let bank: Banking;

  beforeAll(async () => {
    ({ t, teller, bank } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  describe('the money rule', () => {
    /** This block's own movements, so that it checks something when it runs alone. */
    let own: Account[];
    let ownTransfers: string[];
    /** Every account of this file's database: this block's, and every other test's that ran. */
    let accounts: Account[];
    /** Every operation of each of them, oldest first. */
    let ledgers: Map<string, Operation[]>;

    beforeAll(async () => {
      const a = await bank.open({ funding: '500.00', overdraftLimit: '50.00' });
      const b = await bank.open({ funding: '20.00' });
      const c = await bank.open();
      own = [a, b, c];
      expect((await bank.withdraw(a.id, '120.35')).status).toBe(201);
      expect((await bank.deposit(c.id, '0.10')).status).toBe(201);
      const ab = await bank.transfer(a.id, b.id, '75.25');
      expect(ab.status).toBe(201);
      const bc = await bank.transfer(b.id, c.id, '10.00');
      expect(bc.status).toBe(201);
      expectProblem(await bank.transfer(c.id, a.id, '1000.00'), 422, 'INSUFFICIENT_FUNDS');
      expectProblem(await bank.withdraw(b.id, '85.26'), 422, 'INSUFFICIENT_FUNDS');
      const ca = await bank.transfer(c.id, a.id, '5.05');
      expect(ca.status).toBe(201);
      const undone = await bank.reverse(ca.body.credit.id);
      expect(undone.status).toBe(201);
      const late = await bank.deposit(b.id, '3.00');
      expect(late.status).toBe(201);
      expect((await bank.reverse(late.body.id)).status).toBe(201);
      // Into the overdraft (c -> a and its reversal cancel out): 500.00 - 120.35 - 75.25 - 350.00.
      expect((await bank.withdraw(a.id, '350.00')).status).toBe(201);
      ownTransfers = [ab.body.id, bc.body.id, ca.body.id, undone.body.transferId];

      accounts = await allPages<Account>(t, teller, '/api/v1/accounts?limit=100');
      ledgers = new Map();
      for (const account of accounts) {
        const ops = await allPages<Operation>(
          t,
          teller,
          `/api/v1/accounts/${account.id}/operations?limit=100`,
        );
        ledgers.set(account.id, ops.reverse());
      }
    });

    it('for every account: balance = credits - debits, and the balanceAfter chain holds', async () => {
      expect(accounts.map((a) => a.id)).toEqual(expect.arrayContaining(own.map((a) => a.id)));
      expect(accounts.find((a) => a.id === own[0].id)?.balance).toBe('-45.60');
      for (const { id } of accounts) {
        const ops = ledgers.get(id)!;
        let running = 0n;
        let credits = 0n;
        let debits = 0n;
        for (const op of ops) {
          expect(op.accountId).toBe(id);
          const amount = cents(op.amount);
          expect(amount > 0n).toBe(true);
          if (op.type === 'credit') {
            credits += amount;
            running += amount;
          } else {
            debits += amount;
            running -= amount;
          }
          expect({ id, op: op.id, balanceAfter: cents(op.balanceAfter) }).toEqual({
            id,
            op: op.id,
            balanceAfter: running,
          });
        }
        const account = await t.http.get(`/api/v1/accounts/${id}`).set(bearer(teller));
        expect(account.status).toBe(200);
        expect({ id, balance: cents(account.body.balance) }).toEqual({
          id,
          balance: credits - debits,
        });
        expect(cents(account.body.balance) >= -cents(account.body.overdraftLimit)).toBe(true);
      }
    });

    it('every transfer is one debit and one credit of the same amount on two accounts', async () => {
      const legs = new Map<string, Operation[]>();
      for (const ops of ledgers.values()) {
        for (const op of ops) {
          if (op.transferId === null) continue;
          legs.set(op.transferId, [...(legs.get(op.transferId) ?? []), op]);
        }
      }
      expect([...legs.keys()]).toEqual(expect.arrayContaining(ownTransfers));
      for (const [transferId, pair] of legs) {
        expect({ transferId, types: pair.map((o) => o.type).sort() }).toEqual({
          transferId,
          types: ['credit', 'debit'],
        });
        expect(pair[0].accountId).not.toBe(pair[1].accountId);
        expect(cents(pair[0].amount)).toBe(cents(pair[1].amount));
      }
    });
  });
});
