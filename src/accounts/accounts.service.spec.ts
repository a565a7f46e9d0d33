import { AuthUser, Caller, MeRow } from '../auth';
import { AuditService } from '../audit/audit.service';
import { ClientsService } from '../clients/clients.service';
import { notFound } from '../common/problem';
import { newTestService, refusalOf } from '../test-utils/new-test-service';
import { CUSTOMER, TELLER } from '../test-utils/users';
import { AccountStatus } from './account-status';
import { AccountRow, AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import { ListAccountsQuery } from './dto/accounts.dto';

const teller = TELLER;
const customer = CUSTOMER;
const otherCustomer: AuthUser = { ...customer, id: 'customer-2', clientId: 'client-9' };

const row = (o: Partial<AccountRow> = {}): AccountRow => ({
  id: 'acc-1',
  number: '00000000422',
  currency: 'EUR',
  balance: '0',
  overdraft_limit: '0',
  status: AccountStatus.Active,
  opened_at: new Date('2026-01-01T00:00:00Z'),
  closed_at: null,
  holders: [{ id: 'client-1', firstName: 'Carol', lastName: 'Doe' }],
  ...o,
});
/** The row AccountsRepository.lock reads: the account without its holders. */
const locked = (o: Partial<AccountRow> = {}): Omit<AccountRow, 'holders'> => row(o);

const query = (o: Partial<ListAccountsQuery> = {}): ListAccountsQuery =>
  Object.assign(new ListAccountsQuery(), { limit: 2 }, o);

function setup(env: Record<string, string> = {}) {
  const { sut, mocks } = newTestService(AccountsService, { env });
  const accounts = mocks.get(AccountsRepository);
  accounts.find.mockImplementation(async (id) => row({ id }));
  accounts.page.mockResolvedValue({ rows: [], total: '0' });
  return { sut, mocks, accounts, clients: mocks.get(ClientsService) };
}

describe('AccountsService', () => {
  describe('open', () => {
    it('refuses holders that are not clients with VALIDATION_FAILED, naming each, and opens nothing', async () => {
      const { sut, accounts } = setup();
      accounts.keepClients.mockResolvedValue(['client-1']);
      const refusal = await refusalOf(
        sut.open(teller, { holderIds: ['client-1', 'client-2', 'client-3'] }),
      );
      expect(refusal).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(refusal.errors).toEqual([
        { field: 'holderIds', message: 'no client has the id client-2' },
        { field: 'holderIds', message: 'no client has the id client-3' },
      ]);
      expect(accounts.insert).not.toHaveBeenCalled();
    });

    it('opens in DEFAULT_CURRENCY with no overdraft unless asked, numbered from the sequence with a check digit', async () => {
      const { sut, accounts, mocks } = setup({ DEFAULT_CURRENCY: 'CHF' });
      accounts.keepClients.mockResolvedValue(['client-1']);
      accounts.nextSerial.mockResolvedValue('42');
      accounts.insert.mockResolvedValue('acc-new');

      const opened = await sut.open(teller, { holderIds: ['client-1'] });

      expect(accounts.keepClients).toHaveBeenCalledWith(mocks.em, ['client-1']);
      expect(accounts.insert).toHaveBeenCalledWith(
        mocks.em,
        { number: '00000000422', currency: 'CHF', overdraftLimit: 0n },
        ['client-1'],
      );
      expect(opened.id).toBe('acc-new');
    });

    it('opens with the currency and overdraft limit asked for', async () => {
      const { sut, accounts, mocks } = setup();
      accounts.keepClients.mockResolvedValue(['client-1', 'client-2']);
      accounts.nextSerial.mockResolvedValue('7');
      accounts.insert.mockResolvedValue('acc-new');
      await sut.open(teller, {
        holderIds: ['client-1', 'client-2'],
        currency: 'USD',
        overdraftLimit: 50000n,
      });
      expect(accounts.insert).toHaveBeenCalledWith(
        expect.anything(),
        expect.objectContaining({ currency: 'USD', overdraftLimit: 50000n }),
        ['client-1', 'client-2'],
      );
      expect(mocks.get(AuditService).record).toHaveBeenCalledWith(mocks.em, {
        type: 'account.opened',
        actor: { id: teller.id, username: teller.username, role: teller.role },
        subject: { type: 'account', id: 'acc-new' },
        data: expect.objectContaining({
          currency: 'USD',
          overdraftLimit: '500.00',
          holderIds: ['client-1', 'client-2'],
        }),
      });
    });
  });

  describe('lists', () => {
    it('lists for a customer only the accounts its client holds, with its filters on top', async () => {
      const { sut, accounts } = setup();
      await sut.list(customer, query());
      await sut.list(customer, query({ holderId: 'client-2', status: AccountStatus.Frozen }));
      expect(accounts.page.mock.calls.map(([filters]) => filters)).toEqual([
        { holders: ['client-1'], status: null },
        { holders: ['client-1', 'client-2'], status: AccountStatus.Frozen },
      ]);
    });

    it('lists every account for staff, filtered only by what they ask', async () => {
      const { sut, accounts } = setup();
      await sut.list(teller, query());
      await sut.list(teller, query({ holderId: 'client-2' }));
      expect(accounts.page.mock.calls.map(([filters]) => filters)).toEqual([
        { holders: [], status: null },
        { holders: ['client-2'], status: null },
      ]);
    });

    it('reads one row more than a page to know whether another follows, and says where it starts', async () => {
      const { sut, accounts } = setup();
      accounts.page.mockResolvedValue({
        rows: [row({ id: 'a' }), row({ id: 'b' }), row({ id: 'c' })],
        total: '3',
      });
      const page = await sut.list(teller, query({ page: 3 }));
      expect(accounts.page).toHaveBeenCalledWith(expect.anything(), null, 4, 3);
      expect(page.items.map((a) => a.id)).toEqual(['a', 'b']);
      expect(page.nextCursor).toEqual(expect.any(String));
    });

    it('refuses a cursor from another customer’s list with VALIDATION_FAILED', async () => {
      const { sut, accounts } = setup();
      accounts.page.mockResolvedValue({
        rows: [row({ id: 'a' }), row({ id: 'b' }), row()],
        total: '3',
      });
      const { nextCursor } = await sut.list(customer, query());
      accounts.page.mockClear();

      const refusal = await refusalOf(sut.list(otherCustomer, query({ cursor: nextCursor! })));

      expect(refusal).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(accounts.page).not.toHaveBeenCalled();
    });

    it('lists a client’s accounts only once the client is visible to the caller', async () => {
      const { sut, accounts, clients } = setup();
      clients.findVisible.mockRejectedValue(notFound('Client'));
      expect(await refusalOf(sut.listForClient(customer, 'client-9', query()))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(clients.findVisible).toHaveBeenCalledWith(customer, 'client-9');
      expect(accounts.page).not.toHaveBeenCalled();

      clients.findVisible.mockResolvedValue({} as never);
      await sut.listForClient(customer, 'client-1', query());
      expect(accounts.page).toHaveBeenCalledWith(
        { holders: ['client-1'], status: null },
        null,
        0,
        3,
      );
    });
  });

  describe('getFor', () => {
    const me: MeRow = {
      me_id: customer.id,
      me_username: customer.username,
      me_role: customer.role,
      me_client_id: customer.clientId,
    };
    const caller = () => new Caller(customer.id, customer.sessionId);

    it('answers TOKEN_INVALID when the session has ended', async () => {
      const { sut, accounts } = setup();
      accounts.getForSession.mockResolvedValue(undefined);
      expect(await refusalOf(sut.getFor(caller(), 'acc-1'))).toMatchObject({
        status: 401,
        code: 'TOKEN_INVALID',
      });
    });

    it('answers NOT_FOUND for an account the caller may not see or that does not exist', async () => {
      const { sut, accounts } = setup();
      accounts.getForSession.mockResolvedValue(me);
      expect(await refusalOf(sut.getFor(caller(), 'acc-1'))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(accounts.getForSession).toHaveBeenCalledWith(
        [customer.sessionId, customer.id],
        'acc-1',
      );
    });

    it('answers the account with its money in two decimals', async () => {
      const { sut, accounts } = setup();
      accounts.getForSession.mockResolvedValue({
        ...me,
        ...row({ balance: '-1205', overdraft_limit: '50000' }),
      });
      expect(await sut.getFor(caller(), 'acc-1')).toMatchObject({
        id: 'acc-1',
        balance: '-12.05',
        overdraftLimit: '500.00',
      });
    });
  });

  describe('update', () => {
    it('answers NOT_FOUND for an account that does not exist', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(undefined);
      expect(
        await refusalOf(sut.update(teller, 'acc-x', { status: AccountStatus.Frozen })),
      ).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(accounts.setStatusAndLimit).not.toHaveBeenCalled();
    });

    it('refuses to change a closed account with ACCOUNT_NOT_ACTIVE', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(locked({ status: AccountStatus.Closed }));
      expect(await refusalOf(sut.update(teller, 'acc-1', { overdraftLimit: 100n }))).toMatchObject({
        status: 409,
        code: 'ACCOUNT_NOT_ACTIVE',
      });
      expect(accounts.setStatusAndLimit).not.toHaveBeenCalled();
    });

    it('refuses an overdraft limit below what the balance already owes with CONFLICT', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(locked({ balance: '-10000', overdraft_limit: '20000' }));
      expect(await refusalOf(sut.update(teller, 'acc-1', { overdraftLimit: 9999n }))).toMatchObject(
        {
          status: 409,
          code: 'CONFLICT',
          detail: 'The balance -100.00 is below the new overdraft limit',
        },
      );
      expect(accounts.setStatusAndLimit).not.toHaveBeenCalled();
    });

    it('accepts an overdraft limit that exactly covers a negative balance, keeping the status', async () => {
      const { sut, accounts, mocks } = setup();
      accounts.lock.mockResolvedValue(
        locked({ balance: '-10000', overdraft_limit: '20000', status: AccountStatus.Frozen }),
      );
      await sut.update(teller, 'acc-1', { overdraftLimit: 10000n });
      expect(accounts.lock).toHaveBeenCalledWith(mocks.em, 'acc-1');
      expect(accounts.setStatusAndLimit).toHaveBeenCalledWith(
        mocks.em,
        'acc-1',
        AccountStatus.Frozen,
        10000n,
      );
    });

    it('freezes an account keeping its overdraft limit', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(locked({ overdraft_limit: '2500' }));
      const answer = await sut.update(teller, 'acc-1', { status: AccountStatus.Frozen });
      expect(accounts.setStatusAndLimit).toHaveBeenCalledWith(
        expect.anything(),
        'acc-1',
        AccountStatus.Frozen,
        2500n,
      );
      expect(accounts.find).toHaveBeenCalledWith('acc-1');
      expect(answer.id).toBe('acc-1');
    });
  });

  describe('holders', () => {
    it('refuses a new holder on a closed account with ACCOUNT_NOT_ACTIVE', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(locked({ status: AccountStatus.Closed }));
      expect(await refusalOf(sut.addHolder(teller, 'acc-1', 'client-2'))).toMatchObject({
        status: 409,
        code: 'ACCOUNT_NOT_ACTIVE',
      });
      expect(accounts.addHolder).not.toHaveBeenCalled();
    });

    it('refuses a holder that is not a client with VALIDATION_FAILED on clientId', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(locked());
      accounts.keepClients.mockResolvedValue([]);
      const refusal = await refusalOf(sut.addHolder(teller, 'acc-1', 'client-x'));
      expect(refusal).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(refusal.errors).toEqual([
        { field: 'clientId', message: 'no client has the id client-x' },
      ]);
      expect(accounts.addHolder).not.toHaveBeenCalled();
    });

    it('refuses a client that already holds the account with CONFLICT', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(locked());
      accounts.keepClients.mockResolvedValue(['client-1']);
      accounts.addHolder.mockResolvedValue(false);
      expect(await refusalOf(sut.addHolder(teller, 'acc-1', 'client-1'))).toMatchObject({
        status: 409,
        code: 'CONFLICT',
      });
    });

    it('adds a holder to a frozen account and answers the account', async () => {
      const { sut, accounts, mocks } = setup();
      accounts.lock.mockResolvedValue(locked({ status: AccountStatus.Frozen }));
      accounts.keepClients.mockResolvedValue(['client-2']);
      accounts.addHolder.mockResolvedValue(true);
      expect((await sut.addHolder(teller, 'acc-1', 'client-2')).id).toBe('acc-1');
      expect(accounts.addHolder).toHaveBeenCalledWith(mocks.em, 'acc-1', 'client-2');
    });

    it('answers NOT_FOUND for removing a client that does not hold the account', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(locked());
      accounts.holderIds.mockResolvedValue(['client-1', 'client-2']);
      expect(await refusalOf(sut.removeHolder(teller, 'acc-1', 'client-3'))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(accounts.removeHolder).not.toHaveBeenCalled();
    });

    it('refuses to remove the last holder with LAST_HOLDER', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(locked());
      accounts.holderIds.mockResolvedValue(['client-1']);
      expect(await refusalOf(sut.removeHolder(teller, 'acc-1', 'client-1'))).toMatchObject({
        status: 409,
        code: 'LAST_HOLDER',
      });
      expect(accounts.removeHolder).not.toHaveBeenCalled();
    });

    it('refuses to remove a holder of a closed account with ACCOUNT_NOT_ACTIVE', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(locked({ status: AccountStatus.Closed }));
      accounts.holderIds.mockResolvedValue(['client-1', 'client-2']);
      expect(await refusalOf(sut.removeHolder(teller, 'acc-1', 'client-2'))).toMatchObject({
        status: 409,
        code: 'ACCOUNT_NOT_ACTIVE',
      });
      expect(accounts.removeHolder).not.toHaveBeenCalled();
    });

    it('removes one of two holders', async () => {
      const { sut, accounts, mocks } = setup();
      accounts.lock.mockResolvedValue(locked());
      accounts.holderIds.mockResolvedValue(['client-1', 'client-2']);
      await sut.removeHolder(teller, 'acc-1', 'client-2');
      expect(accounts.removeHolder).toHaveBeenCalledWith(mocks.em, 'acc-1', 'client-2');
    });
  });

  describe('close', () => {
    it('refuses to close a closed account with ACCOUNT_NOT_ACTIVE', async () => {
      const { sut, accounts } = setup();
      accounts.lock.mockResolvedValue(locked({ status: AccountStatus.Closed }));
      expect(await refusalOf(sut.close(teller, 'acc-1'))).toMatchObject({
        status: 409,
        code: 'ACCOUNT_NOT_ACTIVE',
      });
      expect(accounts.close).not.toHaveBeenCalled();
    });

    it('refuses to close an account whose balance is not 0.00 with BALANCE_NOT_ZERO', async () => {
      for (const [balance, shown] of [
        ['1', '0.01'],
        ['-250', '-2.50'],
      ]) {
        const { sut, accounts, mocks } = setup();
        accounts.lock.mockResolvedValue(locked({ balance, overdraft_limit: '1000' }));
        expect(await refusalOf(sut.close(teller, 'acc-1'))).toMatchObject({
          status: 409,
          code: 'BALANCE_NOT_ZERO',
          detail: `The balance is ${shown}; it must be 0.00 to close`,
        });
        expect(accounts.close).not.toHaveBeenCalled();
        expect(mocks.get(AuditService).record).not.toHaveBeenCalled();
      }
    });

    it('closes an active or frozen account at 0.00', async () => {
      for (const status of [AccountStatus.Active, AccountStatus.Frozen]) {
        const { sut, accounts, mocks } = setup();
        accounts.lock.mockResolvedValue(locked({ status }));
        await sut.close(teller, 'acc-1');
        expect(accounts.close).toHaveBeenCalledWith(mocks.em, 'acc-1');
        expect(mocks.get(AuditService).record).toHaveBeenCalledWith(
          mocks.em,
          expect.objectContaining({
            type: 'account.closed',
            subject: { type: 'account', id: 'acc-1' },
          }),
        );
      }
    });
  });

  it('answers NOT_FOUND when the account to view does not exist', async () => {
    const { sut, accounts } = setup();
    accounts.find.mockResolvedValue(undefined);
    expect(await refusalOf(sut.view('acc-x'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});
