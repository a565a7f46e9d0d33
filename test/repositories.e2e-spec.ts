/**
 * The repositories' hand-written statements on a real database, below the
 * HTTP layer: what each answers, and that it stays right when two run at
 * once (on the PostgreSQL server; the embedded database has one connection,
 * so nothing there runs at once).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Caller } from '../src/auth/caller';
import { SessionsRepository } from '../src/auth/sessions/sessions.repository';
import { StatementSlotsRepository } from '../src/operations/statement-slots.repository';
import { onManager, onPool } from '../src/common/prepared';
import { inTransaction } from '../src/common/transactions';
import {
  IdempotencyKeysRepository,
  StoredKey,
} from '../src/idempotency/idempotency-keys.repository';
import { AccountsRepository } from '../src/accounts/accounts.repository';
import { LedgerRepository } from '../src/operations/ledger.repository';
import { OperationsRepository } from '../src/operations/operations.repository';
import { Role } from '../src/identity/role';
import { TestApp } from './helpers/app';
import { banking, createClient } from './helpers/banking';
import { onServer } from './helpers/databases';
import { withTeller } from './helpers/fixture';
import { until } from './helpers/service';

const serverOnly = onServer ? it : it.skip;

/** The session and user ids of an access token (its sid and sub claims). */
function sessionOf(accessToken: string): [string, string] {
  const claims = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()) as {
    sid: string;
    sub: string;
  };
  return [claims.sid, claims.sub];
}

describe('repositories on a real database', () => {
  let t: TestApp;
  let db: DataSource;
  let teller: string;
  let tellerName: string;
  let session: [string, string];

  beforeAll(async () => {
    ({ t, teller, tellerName } = await withTeller());
    db = t.app.get(DataSource);
    session = sessionOf(teller);
  });
  afterAll(async () => {
    await t.close();
  });

  /** Some statement of this database waits for a lock. */
  const someoneWaits = async () => {
    const [{ waiting }] = await db.query<Array<{ waiting: number }>>(
      `SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return waiting > 0 || undefined;
  };

  const balanceOf = async (id: string) =>
    (
      await db.query<Array<{ balance: string }>>(`SELECT balance FROM accounts WHERE id = $1`, [id])
    )[0].balance;

  describe('LedgerRepository', () => {
    let ledger: LedgerRepository;
    beforeAll(() => {
      ledger = t.app.get(LedgerRepository);
    });
    const movement = (accountId: string, amount: bigint, s = session, roles: string[] = []) => ({
      session: s,
      accountId,
      amount,
      description: null,
      roles,
    });

    it('a deposit answers the caller and the operation with its balance after', async () => {
      const account = await banking(t, teller).open({ funding: '1.00' });
      const row = await ledger.move(onPool(db), 'deposit', movement(account.id, 250n));
      expect(row).toMatchObject({
        me_id: session[1],
        me_username: tellerName,
        me_role: Role.Teller,
        account_id: account.id,
        type: 'credit',
        kind: 'deposit',
        amount: '250',
        balance_after: '350',
      });
      expect(await balanceOf(account.id)).toBe('350');
    });

    it('a withdrawal past the overdraft limit answers the caller and no operation, and changes nothing', async () => {
      const account = await banking(t, teller).open({ funding: '1.00' });
      const row = await ledger.move(onPool(db), 'withdrawal', movement(account.id, 101n));
      expect(row?.me_id).toBe(session[1]);
      expect(row?.id).toBeNull();
      expect(await ledger.accountStatus(onPool(db), account.id)).toBe('active');
      expect(await balanceOf(account.id)).toBe('100');
    });

    it('an ended session or a role the route refuses moves nothing', async () => {
      const account = await banking(t, teller).open({ funding: '1.00' });
      const forbidden = await ledger.move(
        onPool(db),
        'deposit',
        movement(account.id, 5n, session, [Role.Admin]),
      );
      expect(forbidden?.me_role).toBe(Role.Teller);
      expect(forbidden?.id).toBeNull();
      const ended = await ledger.move(
        onPool(db),
        'deposit',
        movement(account.id, 5n, [randomUUID(), session[1]]),
      );
      // No `me` row at all: the session has ended.
      expect(ended).toBeUndefined();
      expect(await balanceOf(account.id)).toBe('100');
    });

    it('a transfer writes both legs under the locks, or one row that says why not', async () => {
      const bank = banking(t, teller);
      const [from, to] = [await bank.open({ funding: '10.00' }), await bank.open()];
      const transfer = (amount: bigint) =>
        inTransaction(db, async (em) => {
          const query = onManager(em);
          const me = await ledger.lockTransfer(query, session, [from.id, to.id]);
          expect(me?.me_id).toBe(session[1]);
          return ledger.transfer(query, {
            visibility: null,
            from: from.id,
            to: to.id,
            amount,
            description: 'rent',
            transferId: randomUUID(),
            performedBy: session[1],
            performerName: 'admin',
            performerRole: 'admin',
          });
        });
      const legs = await transfer(400n);
      expect(legs.map((l) => [l.account_id, l.type, l.balance_after]).sort()).toEqual(
        [
          [from.id, 'debit', '600'],
          [to.id, 'credit', '400'],
        ].sort(),
      );
      const refused = await transfer(601n);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ src_status: 'active', dst_status: 'active', id: null });
      expect([await balanceOf(from.id), await balanceOf(to.id)]).toEqual(['600', '400']);
    });

    it('the lock resolves a destination by number; each leg names the other account', async () => {
      const bank = banking(t, teller);
      const [from, to] = [await bank.open({ funding: '10.00' }), await bank.open()];
      const lock = (number: string) =>
        inTransaction(db, (em) =>
          ledger.lockTransfer(onManager(em), session, [from.id, null], number),
        );
      expect((await lock(to.number))?.to_id).toBe(to.id);
      expect((await lock('99999999994'))?.to_id).toBeNull();
      const legs = await inTransaction(db, async (em) => {
        const query = onManager(em);
        const me = await ledger.lockTransfer(query, session, [from.id, null], to.number);
        return ledger.transfer(query, {
          visibility: null,
          from: from.id,
          to: me!.to_id,
          amount: 100n,
          description: null,
          transferId: randomUUID(),
          performedBy: session[1],
          performerName: 'admin',
          performerRole: 'admin',
        });
      });
      const name = (a: typeof from) =>
        a.holders.map((h) => `${h.firstName} ${h.lastName}`).join(' & ');
      expect(
        legs.map((l) => [l.account_id, l.counterparty_number, l.counterparty_name]).sort(),
      ).toEqual(
        [
          [from.id, to.number, name(to)],
          [to.id, from.number, name(from)],
        ].sort(),
      );
    });

    serverOnly(
      'of two withdrawals that each fit but not together, exactly one is made',
      async () => {
        const account = await banking(t, teller).open({ funding: '1.00' });
        for (let round = 0; round < 20; round++) {
          const rows = await Promise.all([
            ledger.move(onPool(db), 'withdrawal', movement(account.id, 60n)),
            ledger.move(onPool(db), 'withdrawal', movement(account.id, 60n)),
          ]);
          expect(rows.filter((r) => r?.id)).toHaveLength(1);
          expect(await balanceOf(account.id)).toBe('40');
          await ledger.move(onPool(db), 'deposit', movement(account.id, 60n));
        }
      },
    );

    serverOnly(
      'lockAccounts holds a concurrent deposit back until its transaction ends',
      async () => {
        const account = await banking(t, teller).open({ funding: '1.00' });
        const events: string[] = [];
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holder = inTransaction(db, async (em) => {
          const accounts = await ledger.lockAccounts(em, [account.id, account.id]);
          expect(accounts.get(account.id)?.balance).toBe('100');
          locked();
          await held;
          events.push('commit');
        });
        await isLocked;
        const deposit = ledger
          .move(onPool(db), 'deposit', movement(account.id, 1n))
          .then((row) => events.push(`deposit ${row?.balance_after}`));
        // The deposit's statement is seen waiting for the row lock before the lock is released.
        await until('the deposit to wait for the lock', someoneWaits);
        events.push('release');
        release();
        await Promise.all([holder, deposit]);
        expect(events).toEqual(['release', 'commit', 'deposit 101']);
      },
    );
  });

  describe('SessionsRepository', () => {
    let sessions: SessionsRepository;
    beforeAll(() => {
      sessions = t.app.get(SessionsRepository);
    });

    /** A fresh session of the teller with refresh hash `hash`. */
    async function newSession(hash: Buffer, ttl = 3600): Promise<string> {
      const id = randomUUID();
      await sessions.insert({
        id,
        userId: session[1],
        ttl,
        refreshHash: hash,
        userAgent: null,
        ip: '192.0.2.9',
      });
      return id;
    }

    it('check answers the user of a live session, and nothing once it is revoked or expired', async () => {
      const live = await newSession(randomBytes(32));
      expect(await sessions.check(live, session[1])).toMatchObject({
        me_id: session[1],
        me_role: Role.Teller,
      });
      expect(await sessions.check(live, randomUUID())).toBeUndefined();
      await sessions.revoke(live, 'logout');
      expect(await sessions.check(live, session[1])).toBeUndefined();

      const expiring = await newSession(randomBytes(32));
      await db.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        expiring,
      ]);
      expect(await sessions.check(expiring, session[1])).toBeUndefined();
    });

    it('check records the use of a session idle for more than a minute, at most once a minute', async () => {
      const id = await newSession(randomBytes(32));
      await db.query(
        `UPDATE sessions SET last_used_at = now() - interval '5 minutes' WHERE id = $1`,
        [id],
      );
      const usedAt = async () =>
        (
          await db.query<Array<{ idle: number }>>(
            `SELECT extract(epoch FROM now() - last_used_at)::int AS idle FROM sessions WHERE id = $1`,
            [id],
          )
        )[0].idle;
      await sessions.check(id, session[1]);
      expect(await usedAt()).toBeLessThan(5);
      await db.query(
        `UPDATE sessions SET last_used_at = now() - interval '30 seconds' WHERE id = $1`,
        [id],
      );
      await sessions.check(id, session[1]);
      expect(await usedAt()).toBeGreaterThanOrEqual(29);
    });

    it('rotate moves the refresh hash once; the old hash rotates nothing more', async () => {
      const [first, second, third] = [randomBytes(32), randomBytes(32), randomBytes(32)];
      const id = await newSession(first);
      expect(await sessions.rotate(id, first, second, 3600)).toBe(session[1]);
      expect(await sessions.rotate(id, first, third, 3600)).toBeUndefined();
      expect(await sessions.state(id, 10)).toMatchObject({
        user_id: session[1],
        refresh_generation: 1,
        live: true,
        in_grace: true,
      });
      expect(await sessions.findLiveRefresh(id, second)).toMatchObject({ user_id: session[1] });
      expect(await sessions.findLiveRefresh(id, first)).toBeUndefined();
    });

    serverOnly(
      'of twenty concurrent rotations of one refresh token, exactly one rotates',
      async () => {
        const current = randomBytes(32);
        const id = await newSession(current);
        const results = await Promise.all(
          Array.from({ length: 20 }, () => sessions.rotate(id, current, randomBytes(32), 3600)),
        );
        expect(results.filter((r) => r === session[1])).toHaveLength(1);
        expect((await sessions.state(id, 10))?.refresh_generation).toBe(1);
      },
    );

    it('revokeOfUser ends only a live session of that user', async () => {
      const id = await newSession(randomBytes(32));
      expect(await sessions.revokeOfUser(id, randomUUID(), 'deleted')).toBe(false);
      expect(await sessions.revokeOfUser(id, session[1], 'deleted')).toBe(true);
      expect(await sessions.revokeOfUser(id, session[1], 'deleted')).toBe(false);
    });
  });

  describe('IdempotencyKeysRepository', () => {
    let keys: IdempotencyKeysRepository;
    beforeAll(() => {
      keys = t.app.get(IdempotencyKeysRepository);
    });
    const stored = (key: string): StoredKey => ({
      user_id: session[1],
      key,
      route: 'POST /api/v1/transfers',
      request_hash: randomBytes(32),
      response_status: 201,
      response_type: 'application/json; charset=utf-8',
      response_body: '{"id":"x"}',
    });

    it('stores an answer and finds it again, byte for byte; a key is stored once', async () => {
      const key = `repo-${randomUUID()}`;
      const answer = stored(key);
      await inTransaction(db, (em) => keys.insert(em, answer));
      expect(await inTransaction(db, (em) => keys.find(em, session[1], key))).toEqual(answer);
      expect(await inTransaction(db, (em) => keys.find(em, randomUUID(), key))).toBeUndefined();
      await expect(inTransaction(db, (em) => keys.insert(em, stored(key)))).rejects.toMatchObject({
        driverError: { code: '23505' },
      });
    });

    serverOnly(
      'tryLock is refused while another transaction holds the key, and free after it',
      async () => {
        const key = `repo-${randomUUID()}`;
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holder = inTransaction(db, async (em) => {
          expect(await keys.tryLock(em, session[1], key)).toBe(true);
          locked();
          await held;
        });
        await isLocked;
        expect(await inTransaction(db, (em) => keys.tryLock(em, session[1], key))).toBe(false);
        // Another user's same key is another key.
        expect(await inTransaction(db, (em) => keys.tryLock(em, randomUUID(), key))).toBe(true);
        release();
        await holder;
        expect(await inTransaction(db, (em) => keys.tryLock(em, session[1], key))).toBe(true);
      },
    );

    it('deleteExpired removes keys older than 24 hours and keeps younger ones', async () => {
      const [old, young] = [`old-${randomUUID()}`, `young-${randomUUID()}`];
      await inTransaction(db, async (em) => {
        await keys.insert(em, stored(old));
        await keys.insert(em, stored(young));
      });
      await db.query(
        `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`,
        [old],
      );
      expect(await keys.deleteExpired()).toBeGreaterThanOrEqual(1);
      const left = await db.query<Array<{ key: string }>>(
        `SELECT key FROM idempotency_keys WHERE key = ANY($1)`,
        [[old, young]],
      );
      expect(left.map((k) => k.key)).toEqual([young]);
    });
  });

  describe("a cursor's row is looked up within its list", () => {
    const none = { type: null, kind: null, from: null, to: null };
    const seqOf = async (operationId: string) =>
      (
        await db.query<Array<{ seq: string }>>(`SELECT seq FROM operations WHERE id = $1`, [
          operationId,
        ])
      )[0].seq;

    it("another account's operation bounds no page or statement batch of this one", async () => {
      const bank = banking(t, teller);
      // Older and newer operations of this account on both sides of the other account's one.
      const account = await bank.open({ funding: '1.00' });
      const other = await bank.open();
      const foreign = await seqOf((await bank.deposit(other.id, '1.00')).body.id as string);
      expect((await bank.deposit(account.id, '1.00')).status).toBe(201);
      const operations = t.app.get(OperationsRepository);
      const window = { afterSeq: foreign, offset: 0, limit: 10 };
      expect((await operations.page(account.id, none, window)).rows).toEqual([]);
      const start = new Date(0);
      const [own] = (await operations.page(account.id, none, { ...window, afterSeq: null })).rows;
      const reader = new Caller(session[1], session[0]);
      const batch = (after: string | null, last: string) =>
        operations.statementBatch(reader, account.id, start, after, last, 10, 'csv');
      expect((await batch(foreign, own.seq)).n).toBe(0);
      expect((await batch(null, foreign)).n).toBe(0);
    });

    it("an account outside the holder's accounts bounds no page of them", async () => {
      const bank = banking(t, teller);
      const holder = await createClient(t, teller);
      await bank.open({ holderIds: [holder.id] });
      const foreign = await bank.open();
      await bank.open({ holderIds: [holder.id] });
      const page = await t.app
        .get(AccountsRepository)
        .page({ holders: [holder.id], status: null }, foreign.id, 0, 10);
      expect(page.rows).toEqual([]);
    });
  });

  describe('StatementSlotsRepository', () => {
    let slots: StatementSlotsRepository;
    beforeAll(() => {
      slots = t.app.get(StatementSlotsRepository);
    });
    const held = (userId: string) =>
      db.query<Array<{ slot: number; holder: string }>>(
        `SELECT slot, holder FROM statement_slots WHERE user_id = $1 AND expires_at > now() ORDER BY slot`,
        [userId],
      );

    it('of ten claims at once for a limit of two, exactly two take a slot, each its own', async () => {
      const userId = randomUUID();
      const claims: string[] = Array.from({ length: 10 }, () => randomUUID());
      const taken = await Promise.all(claims.map((holder) => slots.claim(userId, 2, holder, 30)));
      const won = taken.filter((slot) => slot !== null);
      expect(won.sort()).toEqual([1, 2]);
      const rows = await held(userId);
      expect(rows.map((r) => r.slot)).toEqual([1, 2]);
      expect(rows.every((r) => claims.includes(r.holder))).toBe(true);
    });

    it('a slot whose lease has lapsed is taken again; a released one too, by its holder only', async () => {
      const userId = randomUUID();
      const first = randomUUID();
      expect(await slots.claim(userId, 1, first, 30)).toBe(1);
      expect(await slots.claim(userId, 1, randomUUID(), 30)).toBeNull();
      await db.query(
        `UPDATE statement_slots SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
        [userId],
      );
      const second = randomUUID();
      expect(await slots.claim(userId, 1, second, 30)).toBe(1);
      // The first holder's late release frees nobody else's slot, nor does a renewal extend it.
      await slots.release({ userId, slot: 1, holder: first });
      expect(await held(userId)).toEqual([{ slot: 1, holder: second }]);
      await slots.release({ userId, slot: 1, holder: second });
      expect(await held(userId)).toEqual([]);
      expect(await slots.claim(userId, 1, randomUUID(), 30)).toBe(1);
    });

    it('renew extends the lease of the slots their holders still hold', async () => {
      const userId = randomUUID();
      const holder = randomUUID();
      expect(await slots.claim(userId, 2, holder, 1)).toBe(1);
      await slots.renew(
        [
          { userId, slot: 1, holder },
          { userId, slot: 2, holder: randomUUID() },
        ],
        3600,
      );
      const [lease] = await db.query<Array<{ left: number }>>(
        `SELECT extract(epoch FROM expires_at - now())::int AS left FROM statement_slots
          WHERE user_id = $1 AND slot = 1`,
        [userId],
      );
      expect(lease.left).toBeGreaterThan(3500);
      expect((await held(userId)).map((r) => r.slot)).toEqual([1]);
    });
  });
});
