/**
 * The audit log of the bank's own changes: clients created, updated and
 * deleted; accounts opened, updated, closed, and their holders; and every
 * verification of payee, with its result but never the name the payer typed.
 * Each event is written in the change's own transaction, so a refused change
 * leaves none.
 */
import { DataSource } from 'typeorm';
import { accountNumber } from '../src/accounts/account-number';
import { TestApp, bearer } from './helpers/app';
import { Banking, createClient } from './helpers/banking';
import { withTeller } from './helpers/fixture';

interface ShownEvent {
  id: string;
  type: string;
  actor: { id: string; username: string; role: string } | null;
  subject: { type: string; id: string } | null;
  outcome: string;
  data: Record<string, unknown>;
}

describe('the audit log of clients, accounts and verifications of payee', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;
  let tellerId: string;
  let tellerName: string;
  let bank: Banking;

  beforeAll(async () => {
    ({ t, admin, teller, tellerId, tellerName, bank } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  /** The events of `type` about `subjectId` (any subject when not given), newest first. */
  const events = async (type: string, subjectId?: string): Promise<ShownEvent[]> => {
    const query = new URLSearchParams({ type, limit: '100' });
    if (subjectId) query.set('subjectId', subjectId);
    const res = await t.http.get(`/api/v1/audit-events?${query.toString()}`).set(bearer(admin));
    expect(res.status).toBe(200);
    return res.body.items as ShownEvent[];
  };
  /** The one event of `type` about `subjectId`. */
  const only = async (type: string, subjectId: string): Promise<ShownEvent> => {
    const found = await events(type, subjectId);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const actor = () => ({ id: tellerId, username: tellerName, role: 'teller' });

  describe('clients', () => {
    it('records client.created, client.updated with the fields changed, and client.deleted', async () => {
      const client = await createClient(t, teller, { firstName: 'Grace', lastName: 'Hopper' });
      expect(await only('client.created', client.id)).toMatchObject({
        actor: actor(),
        subject: { type: 'client', id: client.id },
        outcome: 'succeeded',
      });

      const patched = await t.http
        .patch(`/api/v1/clients/${client.id}`)
        .set(bearer(teller))
        .send({ lastName: 'Murray', email: 'grace@example.com' });
      expect(patched.status).toBe(200);
      expect(await only('client.updated', client.id)).toMatchObject({
        actor: actor(),
        subject: { type: 'client', id: client.id },
        data: { lastName: 'Murray', email: 'grace@example.com' },
      });
      expect(Object.keys((await only('client.updated', client.id)).data).sort()).toEqual([
        'email',
        'lastName',
      ]);

      const removed = await t.http.delete(`/api/v1/clients/${client.id}`).set(bearer(teller));
      expect(removed.status).toBe(204);
      expect(await only('client.deleted', client.id)).toMatchObject({
        actor: actor(),
        subject: { type: 'client', id: client.id },
      });
    });

    it('records no client.deleted when the deletion is refused', async () => {
      const client = await createClient(t, teller);
      await bank.open({ holderIds: [client.id] });
      const res = await t.http.delete(`/api/v1/clients/${client.id}`).set(bearer(teller));
      expect(res.status).toBe(409);
      expect(await events('client.deleted', client.id)).toEqual([]);
    });

    it('records no client.created for a taken nationalId', async () => {
      const client = await createClient(t, teller);
      const before = (await events('client.created')).length;
      const res = await t.http
        .post('/api/v1/clients')
        .set(bearer(teller))
        .send({ nationalId: client.nationalId, firstName: 'A', lastName: 'B' });
      expect(res.status).toBe(409);
      expect(await events('client.created')).toHaveLength(before);
    });
  });

  describe('accounts', () => {
    it('records account.opened, updated, holder added and removed, and closed', async () => {
      const ada = await createClient(t, teller);
      const charles = await createClient(t, teller);
      const account = await bank.open({
        holderIds: [ada.id],
        currency: 'EUR',
        overdraftLimit: '100.00',
      });
      const subject = { type: 'account', id: account.id };
      expect(await only('account.opened', account.id)).toMatchObject({
        actor: actor(),
        subject,
        data: {
          number: account.number,
          currency: 'EUR',
          overdraftLimit: '100.00',
          holderIds: [ada.id],
        },
      });

      const frozen = await t.http
        .patch(`/api/v1/accounts/${account.id}`)
        .set(bearer(teller))
        .send({ status: 'frozen' });
      expect(frozen.status).toBe(200);
      const limited = await t.http
        .patch(`/api/v1/accounts/${account.id}`)
        .set(bearer(teller))
        .send({ status: 'active', overdraftLimit: '50.00' });
      expect(limited.status).toBe(200);
      const updates = await events('account.updated', account.id);
      expect(updates.map((e) => [e.actor, e.subject, e.data])).toEqual([
        [actor(), subject, { status: 'active', overdraftLimit: '50.00' }],
        [actor(), subject, { status: 'frozen' }],
      ]);

      const added = await t.http
        .post(`/api/v1/accounts/${account.id}/holders`)
        .set(bearer(teller))
        .send({ clientId: charles.id });
      expect(added.status).toBe(200);
      expect(await only('account.holder.added', account.id)).toMatchObject({
        actor: actor(),
        subject,
        data: { clientId: charles.id },
      });

      const removed = await t.http
        .delete(`/api/v1/accounts/${account.id}/holders/${ada.id}`)
        .set(bearer(teller));
      expect(removed.status).toBe(204);
      expect(await only('account.holder.removed', account.id)).toMatchObject({
        actor: actor(),
        subject,
        data: { clientId: ada.id },
      });

      const closed = await t.http.post(`/api/v1/accounts/${account.id}/close`).set(bearer(teller));
      expect(closed.status).toBe(200);
      expect(await only('account.closed', account.id)).toMatchObject({ actor: actor(), subject });
    });

    it('records nothing for refused changes: closing at a non-zero balance, the last holder, a duplicate holder', async () => {
      const client = await createClient(t, teller);
      const account = await bank.open({ holderIds: [client.id], funding: '10.00' });

      const close = await t.http.post(`/api/v1/accounts/${account.id}/close`).set(bearer(teller));
      expect(close.status).toBe(409);
      expect(close.body.code).toBe('BALANCE_NOT_ZERO');
      expect(await events('account.closed', account.id)).toEqual([]);

      const last = await t.http
        .delete(`/api/v1/accounts/${account.id}/holders/${client.id}`)
        .set(bearer(teller));
      expect(last.status).toBe(409);
      expect(await events('account.holder.removed', account.id)).toEqual([]);

      const again = await t.http
        .post(`/api/v1/accounts/${account.id}/holders`)
        .set(bearer(teller))
        .send({ clientId: client.id });
      expect(again.status).toBe(409);
      expect(await events('account.holder.added', account.id)).toEqual([]);
    });
  });

  describe('verification of payee', () => {
    it('records every verification with its result and never the name typed', async () => {
      const db = t.app.get(DataSource);
      const holder = await createClient(t, teller, {
        firstName: 'Hedwig',
        lastName: 'Kiesler',
      });
      const account = await bank.open({ holderIds: [holder.id] });
      const gone = await bank.open({ holderIds: [(await createClient(t, teller)).id] });
      expect(
        (await t.http.post(`/api/v1/accounts/${gone.id}/close`).set(bearer(teller))).status,
      ).toBe(200);

      // Names typed by the payer: each unlike anything else the log holds.
      const cases = [
        {
          accountNumber: account.number,
          name: 'hedwig KIESLER',
          result: 'match',
          subject: account.id,
        },
        {
          accountNumber: account.number,
          name: 'Hedwig Kieslerr',
          result: 'close_match',
          subject: account.id,
        },
        {
          accountNumber: account.number,
          name: 'Quintus Zebedee',
          result: 'no_match',
          subject: account.id,
        },
        {
          accountNumber: gone.number,
          name: 'Octavia Xylander',
          result: 'not_possible',
          subject: gone.id,
        },
      ];
      for (const c of cases) {
        const res = await t.http
          .post('/api/v1/payees/verify')
          .set(bearer(teller))
          .send({ accountNumber: c.accountNumber, name: c.name });
        expect(res.status).toBe(200);
        expect(res.body.result).toBe(c.result);
      }
      const recorded = (await events('payee.verified')).reverse();
      expect(recorded.map((e) => [e.actor, e.subject, e.data])).toEqual(
        cases.map((c) => [
          actor(),
          { type: 'account', id: c.subject },
          { accountNumber: c.accountNumber, result: c.result },
        ]),
      );

      const rows = await db.query<Array<{ t: string }>>(`SELECT t::text FROM audit_events t`);
      const log = rows.map((r) => r.t.toLowerCase()).join('\n');
      for (const c of cases) expect(log).not.toContain(c.name.toLowerCase());
      for (const word of ['kieslerr', 'quintus', 'zebedee', 'octavia', 'xylander']) {
        expect(log).not.toContain(word);
      }
    });

    it('records a number that names no account with no subject', async () => {
      const account = await bank.open();
      // A valid number (check digit and all) that names no account.
      const missing = accountNumber('987654321');
      expect(missing).not.toBe(account.number);
      const res = await t.http
        .post('/api/v1/payees/verify')
        .set(bearer(teller))
        .send({ accountNumber: missing, name: 'Nobody Atall' });
      expect(res.status).toBe(200);
      expect(res.body.result).toBe('not_possible');
      const [event] = (await events('payee.verified')).filter(
        (e) => e.data.accountNumber === missing,
      );
      expect(event).toMatchObject({
        actor: actor(),
        subject: null,
        data: { accountNumber: missing, result: 'not_possible' },
      });
    });
  });
});
