import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Querier } from '../common/prepared';
import { requestTrace } from '../common/request-context';
import { AUDIT_COLUMNS, AuditEvent, AuditRow } from './audit-event';

/** The transaction-scoped advisory lock the sealer holds: one sealer at a time, on every instance. */
const SEALER_LOCK = 7_231_001;

/** The columns an event is written with, in the order of auditValues. */
export const AUDIT_INSERT_COLUMNS = `type, actor_id, actor_username, actor_role, subject_type,
  subject_id, outcome, reason, ip, user_agent, request_id, data`;

/** The values of an event's row (12, as AUDIT_INSERT_COLUMNS), where it came from included. */
export function auditValues(event: AuditEvent): unknown[] {
  const trace = requestTrace();
  return [
    event.type,
    event.actor?.id ?? null,
    event.actor?.username ?? null,
    event.actor?.role ?? null,
    event.subject?.type ?? null,
    event.subject?.id ?? null,
    event.outcome ?? 'succeeded',
    event.reason ?? null,
    trace.ip,
    trace.userAgent,
    trace.requestId,
    JSON.stringify(event.data ?? {}),
  ];
}

const INSERT_SQL = `INSERT INTO audit_events (${AUDIT_INSERT_COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)`;

export interface AuditFilters {
  actorId?: string;
  subjectId?: string;
  type?: string;
  from?: Date;
  to?: Date;
  /** Only auth.* events whose actor or subject is this user. */
  securityOf?: string;
}

/** Every statement on audit_events and audit_chain_head. */
@Injectable()
export class AuditRepository {
  constructor(private readonly db: DataSource) {}

  /** Writes one event with the statement runner of the caller's transaction. */
  async insert(query: Querier, event: AuditEvent): Promise<void> {
    await query('audit_insert', INSERT_SQL, auditValues(event));
  }

  /**
   * Seals up to `batch` committed, unsealed events, in the order of their
   * rows, under the sealer's transaction-scoped lock; another sealer holding
   * it means this one does nothing. `link` computes each event's hash.
   */
  async seal(
    batch: number,
    link: (row: AuditRow, seq: number, prevHash: string) => string,
    genesis: string,
  ): Promise<number> {
    return this.db.transaction(async (em) => {
      const [{ locked }] = await em.query<Array<{ locked: boolean }>>(
        `SELECT pg_try_advisory_xact_lock($1) AS locked`,
        [SEALER_LOCK],
      );
      if (!locked) return 0;
      const rows = await em.query<AuditRow[]>(
        `SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE seq IS NULL ORDER BY pos LIMIT $1`,
        [batch],
      );
      if (rows.length === 0) return 0;
      const [head] = await em.query<Array<{ seq: string; hash: string }>>(
        `SELECT seq, hash FROM audit_chain_head`,
      );
      let seq = head ? Number(head.seq) : 0;
      let prevHash = head?.hash ?? genesis;
      const [positions, seqs, prevs, hashes] = [[], [], [], []] as [
        string[],
        number[],
        string[],
        string[],
      ];
      for (const row of rows) {
        seq += 1;
        const hash = link(row, seq, prevHash);
        positions.push(row.pos);
        seqs.push(seq);
        prevs.push(prevHash);
        hashes.push(hash);
        prevHash = hash;
      }
      await em.query(
        `UPDATE audit_events a SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS v(pos, seq, prev_hash, hash)
          WHERE a.pos = v.pos`,
        [positions, seqs, prevs, hashes],
      );
      await em.query(
        `INSERT INTO audit_chain_head (one, seq, hash) VALUES (true, $1, $2)
         ON CONFLICT (one) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`,
        [seq, prevHash],
      );
      return rows.length;
    });
  }

  /** The sealed events after `afterSeq`, in seq order. */
  sealedAfter(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return this.db.query<AuditRow[]>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, limit],
    );
  }

  /** The last sealed seq and hash, as the sealer recorded them. */
  async head(): Promise<{ seq: number; hash: string } | null> {
    const [head] = await this.db.query<Array<{ seq: string; hash: string }>>(
      `SELECT seq, hash FROM audit_chain_head`,
    );
    return head ? { seq: Number(head.seq), hash: head.hash } : null;
  }

  /** A page of events, newest first: `limit` + 1 rows after the row `afterPos`, or from `offset`. */
  page(
    filters: AuditFilters,
    after: string | null,
    offset: number,
    limit: number,
  ): Promise<AuditRow[]> {
    const [where, values] = this.where(filters);
    values.push(after, offset, limit + 1);
    const n = values.length;
    return this.db.query<AuditRow[]>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_events
        WHERE ${where} AND ($${n - 2}::bigint IS NULL OR pos < $${n - 2}::bigint)
        ORDER BY pos DESC OFFSET $${n - 1} LIMIT $${n}`,
      values,
    );
  }

  /** How many events the filters select, or null beyond `cap`. */
  async count(filters: AuditFilters, cap: number): Promise<number | null> {
    const [where, values] = this.where(filters);
    values.push(cap + 1);
    const [{ n }] = await this.db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM audit_events WHERE ${where} LIMIT $${values.length}) AS capped`,
      values,
    );
    return n > cap ? null : n;
  }

  private where(f: AuditFilters): [string, unknown[]] {
    const values: unknown[] = [
      f.actorId ?? null,
      f.subjectId ?? null,
      f.type ?? null,
      f.from ?? null,
      f.to ?? null,
      f.securityOf ?? null,
    ];
    return [
      `($1::uuid IS NULL OR actor_id = $1::uuid)
        AND ($2::text IS NULL OR subject_id = $2::text)
        AND ($3::text IS NULL OR type = $3::text)
        AND ($4::timestamptz IS NULL OR occurred_at >= $4::timestamptz)
        AND ($5::timestamptz IS NULL OR occurred_at < $5::timestamptz)
        AND ($6::uuid IS NULL OR (type LIKE 'auth.%'
             AND (actor_id = $6::uuid OR subject_id = $6::text)))`,
      values,
    ];
  }
}
