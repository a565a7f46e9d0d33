/**
 * The audit log's chain: events written in a transaction (none when it rolls
 * back), sealed after commit into seq 1, 2, 3 ... with each hash recomputable
 * from the API's own view of the events, append-only in the database, and
 * GET /audit-events/verify finding an event altered or removed behind the
 * service's back.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { DataSource } from 'typeorm';
import { AuditService } from '../src/audit/audit.service';
import { PruneService } from '../src/maintenance/prune.service';
import { TestApp, bearer } from './helpers/app';
import { until } from './helpers/service';

const ZEROS = '0'.repeat(64);

interface ShownEvent {
  id: string;
  seq: number | null;
  type: string;
  hash: string | null;
  prevHash: string | null;
  data: Record<string, unknown>;
  [field: string]: unknown;
}

describe('the audit log: a hash chain an auditor can verify', () => {
  let t: TestApp;
  let admin: string;
  let db: DataSource;
  let audit: AuditService;

  beforeAll(async () => {
    t = await TestApp.start({ AUDIT_SEAL_INTERVAL: '1m' });
    admin = await t.adminToken();
    db = t.app.get(DataSource);
    audit = t.app.get(AuditService);
  });
  afterAll(async () => {
    await t.close();
  });

  const all = async (): Promise<ShownEvent[]> => {
    const items: ShownEvent[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.http
        .get(`/api/v1/audit-events?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
        .set(bearer(admin))
        .expect(200);
      items.push(...(res.body.items as ShownEvent[]));
      cursor = res.body.nextCursor as string | null;
    } while (cursor);
    return items;
  };
  const verify = async () =>
    (await t.http.get('/api/v1/audit-events/verify').set(bearer(admin)).expect(200)).body as {
      ok: boolean;
      count: number;
      headSeq: number | null;
      headHash: string | null;
      brokenAtSeq: number | null;
    };
  const write = (n: number, type = 'test.event') =>
    db.transaction(async (em) => {
      for (let i = 0; i < n; i++) await audit.record(em, { type, data: { i } });
    });

  it('writes an event only when its transaction commits, unsealed until the sealer runs', async () => {
    await expect(
      db.transaction(async (em) => {
        await audit.record(em, { type: 'test.rolled_back' });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await write(3);
    const events = await all();
    expect(events.filter((e) => e.type === 'test.rolled_back')).toEqual([]);
    const written = events.filter((e) => e.type === 'test.event');
    expect(written).toHaveLength(3);
    for (const e of written) expect([e.seq, e.hash, e.prevHash]).toEqual([null, null, null]);
  });

  it('seals in order, seq 1, 2, 3 with no gaps, each hash recomputable from the event as shown', async () => {
    await audit.seal();
    const events = (await all()).reverse(); // oldest first
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    let prev = ZEROS;
    for (const event of events) {
      expect(event.prevHash).toBe(prev);
      const { hash, ...linked } = event;
      const expected = createHash('sha256')
        .update(`${prev}\n${canonicalize(linked)}`)
        .digest('hex');
      expect(hash).toBe(expected);
      prev = hash!;
    }
    expect(await verify()).toEqual({
      ok: true,
      count: events.length,
      headSeq: events.length,
      headHash: prev,
      brokenAtSeq: null,
    });
  });

  it('refuses UPDATE, DELETE and TRUNCATE of events, through the database itself', async () => {
    await expect(db.query(`UPDATE audit_events SET type = 'x' WHERE seq = 1`)).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query(`DELETE FROM audit_events WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await expect(db.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
    // Nor may a sealed event be sealed again.
    await expect(db.query(`UPDATE audit_events SET seq = 99 WHERE seq = 1`)).rejects.toThrow(
      /append-only/,
    );
    expect((await verify()).ok).toBe(true);
  });

  /** What someone with the database's superuser could do: bypass the trigger. */
  const behindTheServicesBack = (sql: string) =>
    db.transaction(async (em) => {
      await em.query(`SET LOCAL session_replication_role = replica`);
      await em.query(sql);
    });

  it('finds an event altered behind the service’s back: brokenAtSeq is its seq', async () => {
    await write(2);
    await audit.seal();
    const before = await verify();
    const [{ data }] = await db.query<Array<{ data: string }>>(
      `SELECT data::text AS data FROM audit_events WHERE seq = 2`,
    );
    await behindTheServicesBack(`UPDATE audit_events SET data = '{"i": 42}' WHERE seq = 2`);
    expect(await verify()).toMatchObject({ ok: false, brokenAtSeq: 2, count: 1 });
    // Put back as it was, the chain holds again: the check is of content, not of a flag.
    await behindTheServicesBack(`UPDATE audit_events SET data = '${data}' WHERE seq = 2`);
    expect(await verify()).toEqual(before);
  });

  it('finds an event removed from the middle, and the newest removed', async () => {
    const { headSeq } = await verify();
    await behindTheServicesBack(`DELETE FROM audit_events WHERE seq = 3`);
    expect(await verify()).toMatchObject({ ok: false, brokenAtSeq: 3 });
    await behindTheServicesBack(`DELETE FROM audit_events WHERE seq >= 3`);
    // The rest of the chain is whole, but the head the sealer recorded is gone.
    expect(await verify()).toMatchObject({ ok: false, brokenAtSeq: 3, headSeq });
  });

  it('is kept whole by pruning, which deletes no event', async () => {
    await write(2);
    await audit.seal();
    const before = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM audit_events`,
    );
    await t.app.get(PruneService).run();
    const after = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM audit_events`,
    );
    expect(after[0].n).toBe(before[0].n);
    // The chain was broken at 3 by the test before; what pruning must not do is change that.
    expect(await verify()).toMatchObject({ ok: false, brokenAtSeq: 3 });
  });

  it('is admin only, and its filters are validated', async () => {
    const other = await t.http.get('/api/v1/audit-events/verify');
    expect(other.status).toBe(401);
    const bad = await t.http.get('/api/v1/audit-events?type=DROP%20TABLE').set(bearer(admin));
    expect(bad.status).toBe(400);
    const byType = await t.http.get('/api/v1/audit-events?type=test.event').set(bearer(admin));
    expect(byType.status).toBe(200);
    expect(byType.body.items.every((e: ShownEvent) => e.type === 'test.event')).toBe(true);
  });
});

describe('the sealer', () => {
  it('seals committed events within seconds by itself (AUDIT_SEAL_INTERVAL, 1 s by default)', async () => {
    const t = await TestApp.start();
    try {
      const db = t.app.get(DataSource);
      await db.transaction((em) => t.app.get(AuditService).record(em, { type: 'test.sealed' }));
      const admin = await t.adminToken();
      const sealed = await until(
        'the sealer',
        async () => {
          const res = await t.http.get('/api/v1/audit-events?type=test.sealed').set(bearer(admin));
          const [event] = res.body.items as Array<{ seq: number | null; hash: string | null }>;
          return event?.seq ? event : undefined;
        },
        10,
      );
      expect(sealed.hash).toMatch(/^[0-9a-f]{64}$/);
      const check = await t.http.get('/api/v1/audit-events/verify').set(bearer(admin)).expect(200);
      expect(check.body).toMatchObject({ ok: true, brokenAtSeq: null });
    } finally {
      await t.close();
    }
  });
});
