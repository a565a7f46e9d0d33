import { DataSource, QueryFailedError } from 'typeorm';
import { AuthUser, Caller, MeRow, SessionsService } from '../auth';
import { IdempotencyRequest } from '../idempotency/idempotency';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { newTestService, refusalOf } from '../test-utils/new-test-service';
import { CUSTOMER, TELLER } from '../test-utils/users';
import { Role } from '../identity/role';
import { LedgerRepository, LockedAccount, TransferRow } from './ledger.repository';
import { LedgerService } from './ledger.service';
import { TransferDto, TransferResultDto } from './dto/operations.dto';
import { OperationRow } from './operation-view';

const teller = TELLER;
const customer = CUSTOMER;

const meOf = (user: AuthUser): MeRow => ({
  me_id: user.id,
  me_username: user.username,
  me_role: user.role,
  me_client_id: user.clientId,
});

const callerOf = (user: AuthUser, roles: Role[] = []) => {
  const caller = new Caller(user.id, user.sessionId);
  caller.roles = roles;
  return caller;
};

const noKey: IdempotencyRequest = {
  key: null,
  userId: teller.id,
  route: 'POST /api/v1/accounts/acc-1/deposit',
  hash: Buffer.alloc(0),
  requestId: 'request-1',
};
const withKey: IdempotencyRequest = { ...noKey, key: 'key-1', hash: Buffer.from('hash') };

const operation = (o: Partial<OperationRow> = {}): OperationRow => ({
  id: 'op-1',
  seq: '1',
  account_id: 'acc-1',
  type: 'credit',
  kind: 'deposit',
  amount: '1050',
  balance_after: '2050',
  description: null,
  transfer_id: null,
  reversal_of: null,
  performed_by: teller.id,
  created_at: new Date('2026-01-02T03:04:05Z'),
  ...o,
});

const account = (o: Partial<LockedAccount> = {}): LockedAccount => ({
  id: 'acc-1',
  currency: 'EUR',
  balance: '10000',
  overdraft_limit: '0',
  status: 'active',
  ...o,
});

function setup() {
  const { sut, mocks } = newTestService(LedgerService);
  const ledger = mocks.get(LedgerRepository);
  const idempotency = mocks.get(IdempotencyService);
  // The key's transaction: the work runs on its EntityManager.
  idempotency.run.mockImplementation((_req, work) => work(mocks.em));
  return { sut, mocks, ledger, idempotency, sessions: mocks.get(SessionsService) };
}

describe('LedgerService', () => {
  describe('deposits and withdrawals', () => {
    it('deposits with one statement on the pool, bound to the session, account, amount and route roles', async () => {
      const { sut, mocks, ledger, idempotency, sessions } = setup();
      ledger.move.mockResolvedValue({ ...meOf(teller), ...operation() });
      const caller = callerOf(teller, [Role.Admin, Role.Teller]);

      const answer = await sut.deposit(caller, 'acc-1', { amount: 1050n }, noKey);

      expect(ledger.move).toHaveBeenCalledWith(expect.any(Function), 'deposit', {
        session: [teller.sessionId, teller.id],
        accountId: 'acc-1',
        amount: 1050n,
        description: null,
        roles: [Role.Admin, Role.Teller],
      });
      expect(answer).toMatchObject({ id: 'op-1', amount: '10.50', balanceAfter: '20.50' });
      expect(idempotency.run).not.toHaveBeenCalled();
      expect(sessions.resolve).not.toHaveBeenCalled();
      expect(mocks.get(DataSource).transaction).not.toHaveBeenCalled();
    });

    it('refuses a withdrawal from a frozen account with ACCOUNT_NOT_ACTIVE', async () => {
      const { sut, ledger } = setup();
      ledger.move.mockResolvedValue(meOf(teller));
      ledger.accountStatus.mockResolvedValue('frozen');

      const refusal = await refusalOf(
        sut.withdraw(callerOf(teller), 'acc-1', { amount: 100n }, noKey),
      );

      expect(refusal).toMatchObject({ status: 409, code: 'ACCOUNT_NOT_ACTIVE' });
      expect(ledger.move).toHaveBeenCalledWith(
        expect.any(Function),
        'withdrawal',
        expect.anything(),
      );
      expect(ledger.accountStatus).toHaveBeenCalledWith(expect.any(Function), 'acc-1');
    });

    it('refuses a deposit into a frozen or closed account with ACCOUNT_NOT_ACTIVE', async () => {
      for (const status of ['frozen', 'closed']) {
        const { sut, ledger } = setup();
        ledger.move.mockResolvedValue(meOf(teller));
        ledger.accountStatus.mockResolvedValue(status);
        expect(
          await refusalOf(sut.deposit(callerOf(teller), 'acc-1', { amount: 100n }, noKey)),
        ).toMatchObject({
          status: 409,
          code: 'ACCOUNT_NOT_ACTIVE',
          detail: `The account is ${status}`,
        });
      }
    });

    it('refuses a withdrawal an active account cannot cover with INSUFFICIENT_FUNDS', async () => {
      const { sut, ledger } = setup();
      ledger.move.mockResolvedValue(meOf(teller));
      ledger.accountStatus.mockResolvedValue('active');
      expect(
        await refusalOf(sut.withdraw(callerOf(teller), 'acc-1', { amount: 100n }, noKey)),
      ).toMatchObject({ status: 422, code: 'INSUFFICIENT_FUNDS' });
    });

    it('answers NOT_FOUND for a movement on an account that does not exist', async () => {
      const { sut, ledger } = setup();
      ledger.move.mockResolvedValue(meOf(teller));
      ledger.accountStatus.mockResolvedValue(undefined);
      expect(
        await refusalOf(sut.deposit(callerOf(teller), 'acc-x', { amount: 100n }, noKey)),
      ).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    });

    it('answers TOKEN_INVALID when the session has ended, without explaining the account', async () => {
      const { sut, ledger } = setup();
      ledger.move.mockResolvedValue(undefined);
      expect(
        await refusalOf(sut.deposit(callerOf(teller), 'acc-1', { amount: 100n }, noKey)),
      ).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
      expect(ledger.accountStatus).not.toHaveBeenCalled();
    });

    it('answers FORBIDDEN when the session belongs to a role the route does not allow', async () => {
      const { sut, ledger } = setup();
      ledger.move.mockResolvedValue(meOf(customer));
      expect(
        await refusalOf(
          sut.deposit(
            callerOf(customer, [Role.Admin, Role.Teller]),
            'acc-1',
            { amount: 1n },
            noKey,
          ),
        ),
      ).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect(ledger.accountStatus).not.toHaveBeenCalled();
    });

    it('with an Idempotency-Key, checks the session before claiming the key, then moves in its transaction', async () => {
      const { sut, ledger, idempotency, sessions } = setup();
      ledger.move.mockResolvedValue({ ...meOf(teller), ...operation() });

      await sut.deposit(callerOf(teller), 'acc-1', { amount: 1050n }, withKey);

      expect(sessions.resolve).toHaveBeenCalledTimes(1);
      expect(idempotency.run).toHaveBeenCalledWith(withKey, expect.any(Function));
      expect(sessions.resolve.mock.invocationCallOrder[0]).toBeLessThan(
        idempotency.run.mock.invocationCallOrder[0],
      );
      expect(ledger.move).toHaveBeenCalledTimes(1);
    });

    it('with an Idempotency-Key and an ended session, claims no key and moves nothing', async () => {
      const { sut, ledger, idempotency, sessions } = setup();
      sessions.resolve.mockRejectedValue(new Error('session ended'));
      await expect(sut.deposit(callerOf(teller), 'acc-1', { amount: 1n }, withKey)).rejects.toThrow(
        'session ended',
      );
      expect(idempotency.run).not.toHaveBeenCalled();
      expect(ledger.move).not.toHaveBeenCalled();
    });
  });

  describe('transfers', () => {
    const dto = { fromAccountId: 'acc-1', toAccountId: 'acc-2', amount: 2500n };
    const refusedRow = (o: Partial<TransferRow>): TransferRow => ({
      src_status: 'active',
      src_currency: 'EUR',
      src_mine: true,
      src_covers: true,
      dst_status: 'active',
      dst_currency: 'EUR',
      dst_mine: true,
      ...o,
    });
    const legs = (o: Partial<TransferRow> = {}): TransferRow[] => [
      {
        ...refusedRow(o),
        ...operation({
          id: 'op-d',
          account_id: 'acc-1',
          type: 'debit',
          kind: 'transfer',
          amount: '2500',
          balance_after: '7500',
          description: 'rent',
          transfer_id: 't',
          counterparty_number: '10000000025',
          counterparty_name: 'Grace Hopper',
        }),
      },
      {
        ...refusedRow(o),
        ...operation({
          id: 'op-c',
          account_id: 'acc-2',
          type: 'credit',
          kind: 'transfer',
          amount: '2500',
          balance_after: '2500',
          description: 'rent',
          transfer_id: 't',
          counterparty_number: '10000000017',
          counterparty_name: 'Ada Lovelace & Charles Babbage',
        }),
      },
    ];
    const transfer = (
      user: AuthUser,
      rows: TransferRow[],
      idem = noKey,
      body: TransferDto = dto,
      toId: string | null = 'acc-2',
    ) => {
      const s = setup();
      s.ledger.lockTransfer.mockResolvedValue({ ...meOf(user), to_id: toId });
      s.ledger.transfer.mockResolvedValue(rows);
      return { ...s, answer: s.sut.transfer(callerOf(user), body, idem) };
    };
    const byNumber: TransferDto = {
      fromAccountId: 'acc-1',
      toAccountNumber: '10000000025',
      amount: 2500n,
    };

    it('locks both accounts in a transaction, then binds the customer’s client as its visibility', async () => {
      const { answer, ledger, mocks } = transfer(customer, legs());
      const result = (await answer) as TransferResultDto;

      expect(mocks.get(LedgerRepository).lockTransfer).toHaveBeenCalledWith(
        expect.any(Function),
        [customer.sessionId, customer.id],
        ['acc-1', 'acc-2'],
        null,
      );
      expect(ledger.transfer).toHaveBeenCalledWith(expect.any(Function), {
        visibility: 'client-1',
        from: 'acc-1',
        to: 'acc-2',
        amount: 2500n,
        description: null,
        transferId: result.id,
        performedBy: customer.id,
        performerName: customer.username,
        performerRole: customer.role,
      });
      expect(mocks.get(LedgerRepository).lockTransfer.mock.invocationCallOrder[0]).toBeLessThan(
        ledger.transfer.mock.invocationCallOrder[0],
      );
      expect(mocks.get(DataSource).transaction).toHaveBeenCalledTimes(1);
    });

    it('lets staff see every account: no visibility bound', async () => {
      const { answer, ledger } = transfer(teller, legs());
      await answer;
      expect(ledger.transfer).toHaveBeenCalledWith(
        expect.any(Function),
        expect.objectContaining({ visibility: null, performedBy: teller.id }),
      );
    });

    it('answers both legs in full between accounts the caller holds', async () => {
      const { answer } = transfer(customer, legs());
      const result = await answer;
      expect(result).toMatchObject({
        amount: '25.00',
        debit: { id: 'op-d', type: 'debit', balanceAfter: '75.00' },
        credit: { id: 'op-c', type: 'credit', balanceAfter: '25.00', description: 'rent' },
      });
    });

    it('shows a customer paying someone else’s account only a summary of the credit', async () => {
      const { answer } = transfer(customer, legs({ dst_mine: false }));
      const { credit } = (await answer) as { credit: object };
      expect(credit).toEqual({
        id: 'op-c',
        accountId: 'acc-2',
        type: 'credit',
        amount: '25.00',
        createdAt: new Date('2026-01-02T03:04:05Z'),
        counterparty: { accountNumber: '10000000017', name: 'Ada Lovelace & Charles Babbage' },
      });
    });

    it('gives each leg its counterparty: the other account’s number and holders', async () => {
      const result = (await transfer(teller, legs()).answer) as TransferResultDto;
      expect(result.debit.counterparty).toEqual({
        accountNumber: '10000000025',
        name: 'Grace Hopper',
      });
      expect(result.credit.counterparty).toEqual({
        accountNumber: '10000000017',
        name: 'Ada Lovelace & Charles Babbage',
      });
    });

    it('resolves toAccountNumber in the locking statement and transfers to the account found', async () => {
      const { answer, ledger } = transfer(teller, legs(), noKey, byNumber, 'acc-2');
      await answer;
      expect(ledger.lockTransfer).toHaveBeenCalledWith(
        expect.any(Function),
        [teller.sessionId, teller.id],
        ['acc-1', null],
        '10000000025',
      );
      expect(ledger.transfer).toHaveBeenCalledWith(
        expect.any(Function),
        expect.objectContaining({ from: 'acc-1', to: 'acc-2' }),
      );
    });

    it('tells staff UNKNOWN_ACCOUNT_NUMBER for a number that names no account', async () => {
      const { answer } = transfer(
        teller,
        [refusedRow({ dst_status: null, dst_currency: null, dst_mine: null })],
        noKey,
        byNumber,
        null,
      );
      expect(await refusalOf(answer)).toMatchObject({
        status: 422,
        code: 'UNKNOWN_ACCOUNT_NUMBER',
      });
    });

    it('tells a customer PAYEE_UNAVAILABLE for a number that names no account, after its own checks', async () => {
      const unknown = { dst_status: null, dst_currency: null, dst_mine: null };
      const refused = transfer(customer, [refusedRow(unknown)], noKey, byNumber, null);
      expect(await refusalOf(refused.answer)).toMatchObject({
        status: 422,
        code: 'PAYEE_UNAVAILABLE',
      });
      const frozen = transfer(
        customer,
        [refusedRow({ ...unknown, src_status: 'frozen' })],
        noKey,
        byNumber,
        null,
      );
      expect(await refusalOf(frozen.answer)).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
      const poor = transfer(
        customer,
        [refusedRow({ ...unknown, src_covers: false })],
        noKey,
        byNumber,
        null,
      );
      expect(await refusalOf(poor.answer)).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    });

    it('refuses a number that names the source itself with VALIDATION_FAILED on toAccountNumber', async () => {
      const { answer } = transfer(customer, [refusedRow({})], noKey, byNumber, 'acc-1');
      expect(await refusalOf(answer)).toMatchObject({
        status: 400,
        code: 'VALIDATION_FAILED',
        errors: [{ field: 'toAccountNumber' }],
      });
    });

    it('still says NOT_FOUND first for a source the customer does not hold, whatever the number', async () => {
      const { answer } = transfer(
        customer,
        [refusedRow({ src_mine: false })],
        noKey,
        byNumber,
        'acc-1',
      );
      expect(await refusalOf(answer)).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    });

    it('answers TOKEN_INVALID when the session has ended, before any rule is read', async () => {
      const { sut, ledger } = setup();
      ledger.lockTransfer.mockResolvedValue(undefined);
      expect(await refusalOf(sut.transfer(callerOf(customer), dto, noKey))).toMatchObject({
        status: 401,
        code: 'TOKEN_INVALID',
      });
      expect(ledger.transfer).not.toHaveBeenCalled();
    });

    it('answers NOT_FOUND for a source account that does not exist or the customer does not hold', async () => {
      for (const row of [refusedRow({ src_status: null }), refusedRow({ src_mine: false })]) {
        const { answer } = transfer(customer, [row]);
        expect(await refusalOf(answer)).toMatchObject({
          status: 404,
          code: 'NOT_FOUND',
          detail: 'Account fromAccountId not found',
        });
      }
    });

    it('refuses a customer’s transfer to a foreign account that is missing, frozen, closed or in another currency with PAYEE_UNAVAILABLE', async () => {
      const foreign = { dst_mine: false };
      for (const row of [
        refusedRow({ ...foreign, dst_status: null, dst_currency: null }),
        refusedRow({ ...foreign, dst_status: 'frozen' }),
        refusedRow({ ...foreign, dst_status: 'closed' }),
        refusedRow({ ...foreign, dst_currency: 'USD' }),
      ]) {
        const { answer } = transfer(customer, [row]);
        expect(await refusalOf(answer)).toMatchObject({ status: 422, code: 'PAYEE_UNAVAILABLE' });
      }
    });

    it('judges a customer’s own source first: a frozen source is ACCOUNT_NOT_ACTIVE whatever the payee', async () => {
      const { answer } = transfer(customer, [
        refusedRow({ src_status: 'frozen', dst_mine: false, dst_status: null }),
      ]);
      expect(await refusalOf(answer)).toMatchObject({ status: 409, code: 'ACCOUNT_NOT_ACTIVE' });
    });

    it('judges a customer’s own source first: a source that cannot cover is INSUFFICIENT_FUNDS whatever the payee', async () => {
      const { answer } = transfer(customer, [
        refusedRow({ src_covers: false, dst_mine: false, dst_status: 'closed' }),
      ]);
      expect(await refusalOf(answer)).toMatchObject({ status: 422, code: 'INSUFFICIENT_FUNDS' });
    });

    it('tells staff NOT_FOUND for a destination that does not exist', async () => {
      const { answer } = transfer(teller, [refusedRow({ dst_status: null, dst_currency: null })]);
      expect(await refusalOf(answer)).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
        detail: 'Account toAccountId not found',
      });
    });

    it('refuses a transfer from or to a frozen or closed account with ACCOUNT_NOT_ACTIVE', async () => {
      for (const row of [
        refusedRow({ src_status: 'frozen' }),
        refusedRow({ src_status: 'closed' }),
        refusedRow({ dst_status: 'frozen' }),
        refusedRow({ dst_status: 'closed' }),
      ]) {
        const { answer } = transfer(teller, [row]);
        expect(await refusalOf(answer)).toMatchObject({ status: 409, code: 'ACCOUNT_NOT_ACTIVE' });
      }
    });

    it('refuses a transfer between currencies with CURRENCY_MISMATCH (staff, or a customer between its own accounts)', async () => {
      for (const user of [teller, customer]) {
        const { answer } = transfer(user, [refusedRow({ dst_currency: 'USD' })]);
        expect(await refusalOf(answer)).toMatchObject({
          status: 422,
          code: 'CURRENCY_MISMATCH',
          detail: 'Cannot transfer from EUR to USD',
        });
      }
    });

    it('refuses with INSUFFICIENT_FUNDS when every account is fine but no legs were written', async () => {
      const { answer } = transfer(teller, [refusedRow({ src_covers: false })]);
      expect(await refusalOf(answer)).toMatchObject({ status: 422, code: 'INSUFFICIENT_FUNDS' });
    });

    it('with an Idempotency-Key, checks the session, then transfers inside the key’s transaction', async () => {
      const { answer, sessions, idempotency, ledger } = transfer(customer, legs(), withKey);
      await answer;
      expect(sessions.resolve).toHaveBeenCalledTimes(1);
      expect(idempotency.run).toHaveBeenCalledWith(withKey, expect.any(Function));
      expect(ledger.transfer).toHaveBeenCalledTimes(1);
    });
  });

  describe('reversals', () => {
    const reverse = (
      original: OperationRow | undefined,
      accounts: LockedAccount[],
      o: { legs?: OperationRow[]; reversed?: boolean; postFails?: Error } = {},
    ) => {
      const s = setup();
      s.ledger.operation.mockResolvedValue(original);
      s.ledger.transferLegs.mockResolvedValue(o.legs ?? []);
      s.ledger.lockAccounts.mockResolvedValue(new Map(accounts.map((a) => [a.id, a])));
      s.ledger.anyReversed.mockResolvedValue(o.reversed ?? false);
      s.ledger.post.mockImplementation(async (_em, leg) => {
        if (o.postFails) throw o.postFails;
        return operation({
          id: `rev-of-${leg.reversalOf}`,
          account_id: leg.accountId,
          type: leg.type,
          kind: leg.kind,
          amount: leg.amount.toString(),
          reversal_of: leg.reversalOf,
          transfer_id: leg.transferId,
        });
      });
      return { ...s, answer: s.sut.reverse(teller, original?.id ?? 'op-x', {}, withKey) };
    };
    const failure = (code: string) =>
      new QueryFailedError('INSERT', [], Object.assign(new Error(code), { code }));

    it('answers NOT_FOUND for an operation that does not exist', async () => {
      const { answer, ledger } = reverse(undefined, []);
      expect(await refusalOf(answer)).toMatchObject({ status: 404, code: 'NOT_FOUND' });
      expect(ledger.post).not.toHaveBeenCalled();
    });

    it('refuses to reverse a reversal with CONFLICT', async () => {
      const { answer, ledger } = reverse(operation({ kind: 'reversal' }), [account()]);
      expect(await refusalOf(answer)).toMatchObject({ status: 409, code: 'CONFLICT' });
      expect(ledger.post).not.toHaveBeenCalled();
    });

    it('refuses an operation already reversed with ALREADY_REVERSED, checked under the account locks', async () => {
      const { answer, ledger } = reverse(operation(), [account()], { reversed: true });
      expect(await refusalOf(answer)).toMatchObject({ status: 409, code: 'ALREADY_REVERSED' });
      expect(ledger.lockAccounts).toHaveBeenCalledWith(expect.anything(), ['acc-1']);
      expect(ledger.lockAccounts.mock.invocationCallOrder[0]).toBeLessThan(
        ledger.anyReversed.mock.invocationCallOrder[0],
      );
      expect(ledger.post).not.toHaveBeenCalled();
    });

    it('refuses to reverse an operation of a closed account with ACCOUNT_NOT_ACTIVE', async () => {
      const { answer, ledger } = reverse(operation(), [account({ status: 'closed' })]);
      expect(await refusalOf(answer)).toMatchObject({ status: 409, code: 'ACCOUNT_NOT_ACTIVE' });
      expect(ledger.post).not.toHaveBeenCalled();
    });

    it('reverses an operation of a frozen account (staff correct the ledger)', async () => {
      const { answer, ledger } = reverse(operation(), [account({ status: 'frozen' })]);
      await expect(answer).resolves.toMatchObject({ reversalOf: 'op-1' });
      expect(ledger.post).toHaveBeenCalledTimes(1);
    });

    it('refuses a reversal whose debit would go past the overdraft limit with INSUFFICIENT_FUNDS', async () => {
      // A deposit of 10.50 reversed on an account holding 5.00 with a 5.00 limit: -5.50.
      const { answer, ledger } = reverse(operation({ amount: '1050' }), [
        account({ balance: '500', overdraft_limit: '500' }),
      ]);
      expect(await refusalOf(answer)).toMatchObject({ status: 422, code: 'INSUFFICIENT_FUNDS' });
      expect(ledger.post).not.toHaveBeenCalled();
    });

    it('reverses a deposit that takes the balance exactly to the overdraft limit', async () => {
      const { answer, ledger } = reverse(operation({ amount: '1050' }), [
        account({ balance: '550', overdraft_limit: '500' }),
      ]);
      await answer;
      expect(ledger.post).toHaveBeenCalledTimes(1);
    });

    it('compensates a deposit with a debit of the same amount, in the reverser’s name', async () => {
      const { answer, ledger, mocks } = reverse(operation(), [account()]);
      const result = await answer;
      expect(ledger.post).toHaveBeenCalledWith(
        mocks.em,
        {
          accountId: 'acc-1',
          type: 'debit',
          kind: 'reversal',
          amount: 1050n,
          description: 'Reversal of op-1',
          transferId: null,
          reversalOf: 'op-1',
          counterpartyAccountId: null,
        },
        teller.id,
      );
      expect(result).toMatchObject({ id: 'rev-of-op-1', type: 'debit', reversalOf: 'op-1' });
    });

    it('reverses both legs of a transfer as a new transfer and answers the compensation of the leg given', async () => {
      const debit = operation({
        id: 'op-d',
        account_id: 'acc-1',
        type: 'debit',
        kind: 'transfer',
        transfer_id: 't-1',
      });
      const credit = operation({
        id: 'op-c',
        account_id: 'acc-2',
        type: 'credit',
        kind: 'transfer',
        transfer_id: 't-1',
      });
      const { answer, ledger } = reverse(credit, [account(), account({ id: 'acc-2' })], {
        legs: [debit, credit],
      });
      const result = await answer;

      expect(ledger.lockAccounts).toHaveBeenCalledWith(expect.anything(), ['acc-1', 'acc-2']);
      const posted = ledger.post.mock.calls.map(([, leg]) => leg);
      expect(posted).toMatchObject([
        { accountId: 'acc-1', type: 'credit', reversalOf: 'op-d', counterpartyAccountId: 'acc-2' },
        { accountId: 'acc-2', type: 'debit', reversalOf: 'op-c', counterpartyAccountId: 'acc-1' },
      ]);
      expect(posted[0].transferId).toEqual(expect.any(String));
      expect(posted[0].transferId).not.toBe('t-1');
      expect(posted[1].transferId).toBe(posted[0].transferId);
      expect(result).toMatchObject({ id: 'rev-of-op-c', reversalOf: 'op-c' });
    });

    it('answers ALREADY_REVERSED when a concurrent reversal won the unique index (23505)', async () => {
      const { answer } = reverse(operation(), [account()], { postFails: failure('23505') });
      expect(await refusalOf(answer)).toMatchObject({ status: 409, code: 'ALREADY_REVERSED' });
    });

    it('lets any other database failure through', async () => {
      const check = failure('23514');
      const { answer } = reverse(operation(), [account()], { postFails: check });
      await expect(answer).rejects.toBe(check);
    });
  });
});
