import { AccountStatus } from '../accounts/account-status';
import { AuditService } from '../audit/audit.service';
import { newTestService, refusalOf } from '../test-utils/new-test-service';
import { CUSTOMER, TELLER } from '../test-utils/users';
import { PayeeAccount, PayeesRepository } from './payees.repository';
import { PAYEE_VERIFICATION_LIMIT, PayeesService } from './payees.service';

const NUMBER = '10000000017';

const joint = (o: Partial<PayeeAccount> = {}): PayeeAccount => ({
  id: 'acc-1',
  status: AccountStatus.Active,
  currency: 'EUR',
  holders: [
    { firstName: 'Ada', lastName: 'Lovelace' },
    { firstName: 'Charles', lastName: 'Babbage' },
  ],
  ...o,
});

const NOW = new Date('2026-06-01T12:00:00Z');

function setup(account: PayeeAccount | null = joint()) {
  const { sut, mocks } = newTestService(PayeesService);
  const payees = mocks.get(PayeesRepository);
  payees.findAccount.mockResolvedValue(account);
  payees.limitReached.mockResolvedValue({ reachedAt: null, now: NOW });
  return { sut, mocks, payees };
}

describe('PayeesService', () => {
  describe('verify', () => {
    it.each([
      ['Charles Babbage', 'match', 'EUR', null],
      ['babbage CHARLES', 'match', 'EUR', null],
      ['Charles Babage', 'close_match', 'EUR', 'Charles Babbage'],
      ['A. Lovelace', 'close_match', 'EUR', 'Ada Lovelace'],
      ['Grace Hopper', 'no_match', null, null],
    ])('%j against a joint account: %s', async (name, result, currency, suggestedName) => {
      const { sut, payees, mocks } = setup();
      expect(await sut.verify(CUSTOMER, { accountNumber: NUMBER, name })).toEqual({
        accountNumber: NUMBER,
        result,
        currency,
        suggestedName,
      });
      expect(payees.findAccount).toHaveBeenCalledWith(NUMBER, mocks.em);
      // Recorded with its result, in the verification's transaction, never with the name typed.
      expect(mocks.get(AuditService).record).toHaveBeenCalledWith(mocks.em, {
        type: 'payee.verified',
        actor: { id: CUSTOMER.id, username: CUSTOMER.username, role: CUSTOMER.role },
        subject: { type: 'account', id: 'acc-1' },
        data: { accountNumber: NUMBER, result },
      });
    });

    it('is not_possible for a number that names no account, telling nothing else', async () => {
      const { sut } = setup(null);
      expect(await sut.verify(TELLER, { accountNumber: NUMBER, name: 'Ada Lovelace' })).toEqual({
        accountNumber: NUMBER,
        result: 'not_possible',
        currency: null,
        suggestedName: null,
      });
    });

    it('is not_possible for a closed account, even with its holder’s exact name', async () => {
      const { sut } = setup(joint({ status: AccountStatus.Closed }));
      expect(await sut.verify(TELLER, { accountNumber: NUMBER, name: 'Ada Lovelace' })).toEqual({
        accountNumber: NUMBER,
        result: 'not_possible',
        currency: null,
        suggestedName: null,
      });
    });

    it('checks the name of a frozen account: only closing ends verification', async () => {
      const { sut } = setup(joint({ status: AccountStatus.Frozen, currency: 'CHF' }));
      expect(await sut.verify(TELLER, { accountNumber: NUMBER, name: 'Ada Lovelace' })).toEqual(
        expect.objectContaining({ result: 'match', currency: 'CHF' }),
      );
    });

    it('records each verification under the user’s lock, in one transaction with the count', async () => {
      const { sut, mocks, payees } = setup();
      await sut.verify(CUSTOMER, { accountNumber: NUMBER, name: 'Ada Lovelace' });
      expect(payees.lock).toHaveBeenCalledWith(mocks.em, CUSTOMER.id);
      expect(payees.limitReached).toHaveBeenCalledWith(
        mocks.em,
        CUSTOMER.id,
        PAYEE_VERIFICATION_LIMIT.windowSeconds,
        PAYEE_VERIFICATION_LIMIT.perUser,
      );
      expect(payees.insert).toHaveBeenCalledWith(mocks.em, CUSTOMER.id);
      expect(payees.lock.mock.invocationCallOrder[0]).toBeLessThan(
        payees.limitReached.mock.invocationCallOrder[0],
      );
    });

    it('counts a not_possible answer too, so numbers cannot be probed for free', async () => {
      const { sut, payees } = setup(null);
      await sut.verify(CUSTOMER, { accountNumber: NUMBER, name: 'Ada Lovelace' });
      expect(payees.insert).toHaveBeenCalledTimes(1);
    });

    it('refuses beyond the limit with 429 and Retry-After until the oldest counted one leaves the window', async () => {
      const { sut, payees } = setup();
      // The 30th latest verification was 59 minutes and 20 seconds ago: 40 seconds to wait.
      payees.limitReached.mockResolvedValue({
        reachedAt: new Date(NOW.getTime() - (59 * 60 + 20) * 1000),
        now: NOW,
      });
      const verifying = sut.verify(CUSTOMER, { accountNumber: NUMBER, name: 'Ada Lovelace' });
      expect(await refusalOf(verifying)).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
      await expect(
        sut.verify(CUSTOMER, { accountNumber: NUMBER, name: 'Ada Lovelace' }),
      ).rejects.toMatchObject({ extra: { headers: { 'retry-after': '40' } } });
      expect(payees.insert).not.toHaveBeenCalled();
      expect(payees.findAccount).not.toHaveBeenCalled();
    });

    it('lets a verification through once the limit was reached more than the window ago', async () => {
      const { sut, payees } = setup();
      payees.limitReached.mockResolvedValue({
        reachedAt: new Date(NOW.getTime() - PAYEE_VERIFICATION_LIMIT.windowSeconds * 1000),
        now: NOW,
      });
      await sut.verify(CUSTOMER, { accountNumber: NUMBER, name: 'Ada Lovelace' });
      expect(payees.insert).toHaveBeenCalledTimes(1);
    });
  });

  describe('prune', () => {
    it('deletes verifications older than the window', async () => {
      const { sut, payees } = setup();
      payees.deleteOlderThan.mockResolvedValue(3);
      expect(await sut.prune()).toEqual({ payee_verifications: 3 });
      expect(payees.deleteOlderThan).toHaveBeenCalledWith(3600);
    });
  });
});
