import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Caller, ME_COLUMNS, meCte, MeRow, visibleToMe, accountVisibleSql } from '../auth';
import { COUNT_CAP } from '../common/pagination';
import { preparedQuery } from '../common/prepared';
import { SqlParams } from '../common/sql';
import { OperationKind, OperationType } from './operation.entity';
import {
  COUNTERPARTY_COLUMNS,
  counterpartyJoin,
  OPERATION_COLUMNS,
  OperationRow,
} from './operation-view';

/** Filters of an operation list; `from` inclusive, `to` exclusive. */
export interface OperationFilterValues {
  type: OperationType | null;
  kind: OperationKind | null;
  from: Date | null;
  to: Date | null;
}

/** Where a page starts: after the operation with this seq (a cursor), or at an offset. */
export interface OperationsWindow {
  afterSeq: string | null;
  offset: number;
  limit: number;
}

/**
 * The bank-wide list's condition: the predicate of operations_bank_created_seq_idx
 * (true of every operation), which only the list without an account states, so
 * that only it may be planned on that index. An account's statements never
 * state it, nor anything that implies it: planned there, an account owning a
 * large share of the ledger, all older than the rest, had its page found by
 * walking every newer operation.
 */
const BANK_WIDE = 'o.seq > 0';

/** Rows a page with type or kind filters reads at most. */
export const SCAN_WINDOW = COUNT_CAP;

export type AccountPageRow = MeRow &
  Partial<OperationRow> & { visible: string | null; total: string | null };

/** Operations per part of a statement batch: about 33 KB of JSON. */
const STATEMENT_PART = 100;

/** One row of a statement batch: a part of its operations, formatted by PostgreSQL. */
interface StatementPart {
  allowed: boolean;
  n: number;
  last_seq: string | null;
  closing: string | null;
  credits: string;
  debits: string;
  body: string;
}

/** One batch of a statement: its operations as texts, in order, and its figures. */
export interface StatementBatch {
  /** Whether the reader's session and right to the account still hold. */
  allowed: boolean;
  n: number;
  last_seq: string | null;
  /** The balance after the batch's last operation. */
  closing: string | null;
  credits: bigint;
  debits: bigint;
  /** The operations, part by part: JSON objects joined by commas, or CSV lines. */
  bodies: string[];
}

/**
 * The SQL of operation lists and statements. Operations are only ever read
 * in (created_at, seq) order, per account through operations_account_created_seq_idx and
 * bank-wide through operations_bank_created_seq_idx, so a page costs the same at
 * any depth and in any account: a cursor is the seq of the last row shown,
 * and the page starts right after that row's (created_at, seq). Within one
 * account that order is the ledger's order: each movement takes its
 * account's row lock before it stamps and numbers its operation.
 */
@Injectable()
export class OperationsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * An account's page, newest first, in one statement with the caller's
   * session and the account's visibility to it. The total is the account's
   * operation_count without filters, else counted over at most COUNT_CAP
   * rows of the date range (null beyond).
   */
  async pageForAccount(
    caller: Caller,
    accountId: string,
    filters: OperationFilterValues,
    window: OperationsWindow,
  ): Promise<AccountPageRow[]> {
    const p = new SqlParams();
    const me = meCte(p.add(caller.sessionId), p.add(caller.userId));
    const account = p.add(accountId, 'uuid');
    const conditions = filterConditions(p, filters);
    const rows = `o.account_id = ${account}${conditions.range}`;
    const total = hasFilters(filters)
      ? cappedCount(p, `acct.id IS NOT NULL AND ${rows}`, conditions.residual)
      : 'acct.operation_count';
    // The total is worked out once (a materialised CTE), not once per row of the page.
    const sql = `WITH ${me},
        acct AS (SELECT a.id, a.operation_count FROM accounts a, me WHERE a.id = ${account} AND ${visibleToMe('a')}),
        counted AS MATERIALIZED (SELECT ${total} AS total FROM acct)
      SELECT ${ME_COLUMNS}, acct.id AS visible, counted.total, page.*
        FROM me LEFT JOIN acct ON true LEFT JOIN counted ON true LEFT JOIN LATERAL (
          ${pageSql(p, account, `acct.id IS NOT NULL AND ${rows}`, conditions.residual, window)}) page ON true`;
    const name = `account-operations-${variant(filters, window)}`;
    return preparedQuery(this.db, name, sql, p.values);
  }

  /** The staff-wide list, newest first; with an account, that account's rows only. */
  async page(
    accountId: string | null,
    filters: OperationFilterValues,
    window: OperationsWindow,
  ): Promise<{ rows: OperationRow[]; total: string | null }> {
    const p = new SqlParams();
    const account = accountId ? p.add(accountId, 'uuid') : null;
    const conditions = filterConditions(p, filters);
    const rows = `${account ? `o.account_id = ${account}` : BANK_WIDE}${conditions.range}`;
    const count = new SqlParams(p.values);
    const total =
      account && !hasFilters(filters)
        ? `coalesce((SELECT operation_count FROM accounts WHERE id = ${account}), 0)`
        : cappedCount(count, rows, conditions.residual);
    const name = `operations-${accountId ? 'account-' : ''}${variant(filters, window)}`;
    const [page, [counted]] = await Promise.all([
      preparedQuery<OperationRow>(
        this.db,
        `${name}-page`,
        pageSql(p, account, rows, conditions.residual, window),
        p.values,
      ),
      preparedQuery<{ total: string | null }>(
        this.db,
        `${name}-total`,
        `SELECT (${total}) AS total`,
        count.values,
      ),
    ]);
    return { rows: page, total: counted.total };
  }

  /**
   * Where a page with type or kind filters stopped reading, when it read a
   * whole SCAN_WINDOW of rows: the seq of the window's last row, which the
   * next page starts after. Null when the list ends within the window.
   */
  async scanWindowEnd(
    accountId: string | null,
    filters: OperationFilterValues,
    window: OperationsWindow,
  ): Promise<string | null> {
    const p = new SqlParams();
    const account = accountId ? p.add(accountId, 'uuid') : null;
    const { range } = filterConditions(p, { ...filters, type: null, kind: null });
    const rows = await this.db.query<Array<{ seq: string }>>(
      `SELECT o.seq FROM operations o
        WHERE ${account ? `o.account_id = ${account}` : BANK_WIDE}${range}${before(p, account, window.afterSeq)}
        ORDER BY o.created_at DESC, o.seq DESC OFFSET ${SCAN_WINDOW - 1} LIMIT 1`,
      p.values,
    );
    return rows[0]?.seq ?? null;
  }

  /** One operation, for staff (visibility null) or a customer holding its account. */
  async findVisible(visibility: string | null, id: string): Promise<OperationRow | undefined> {
    const rows = await this.db.query<OperationRow[]>(
      `SELECT ${OPERATION_COLUMNS}, ${COUNTERPARTY_COLUMNS}
         FROM operations o JOIN accounts a ON a.id = o.account_id ${counterpartyJoin('o')}
        WHERE o.id = $2 AND ${accountVisibleSql('a', '$1')}`,
      [visibility, id],
    );
    return rows[0];
  }

  /**
   * Where a statement of [start, end) starts and ends: the balance before
   * start, and the seq of the account's newest operation before end at this
   * moment. Operations are never changed, so batches read up to that seq
   * later, each on its own, add up to one consistent statement.
   */
  async statementBounds(
    accountId: string,
    start: Date,
    end: Date,
  ): Promise<{ opening: string | null; last_seq: string | null }> {
    const [row] = await this.db.query<Array<{ opening: string | null; last_seq: string | null }>>(
      `SELECT (SELECT o.balance_after FROM operations o WHERE o.account_id = $1 AND o.created_at < $2
                ORDER BY o.created_at DESC, o.seq DESC LIMIT 1) AS opening,
              (SELECT o.seq FROM operations o WHERE o.account_id = $1 AND o.created_at < $3
                ORDER BY o.created_at DESC, o.seq DESC LIMIT 1) AS last_seq`,
      [accountId, start, end],
    );
    return row;
  }

  /**
   * The next batch of a statement, oldest first: at most `limit` operations
   * from `start`, after the one with seq `afterSeq` (none: from the start),
   * up to and including the one with seq `lastSeq`. PostgreSQL writes each
   * operation as the API shows it (a JSON object or a CSV line), in parts of
   * STATEMENT_PART operations, so a batch reaches the service as a few texts
   * of tens of KB (no large object for the garbage collector to keep until
   * a full collection) and a summary. Its bounds are looked up within the
   * account, as every keyset bound is (see `before`). The end bound is
   * applied to the batch read, not to the scan: with both bounds unknown when
   * it is planned, PostgreSQL took the range for a ninth of the account,
   * little more than a batch, and read all of it to sort it; with the start
   * bound alone it reads the batch in index order. Each batch checks the
   * reader again, in the same statement: its session (meCte) and its right
   * to the account; `allowed` is false (and there are no rows) once either
   * has ended.
   */
  async statementBatch(
    caller: Caller,
    accountId: string,
    start: Date,
    afterSeq: string | null,
    lastSeq: string,
    limit: number,
    format: 'json' | 'csv',
  ): Promise<StatementBatch> {
    const parts = await this.db.query<StatementPart[]>(
      `WITH ${meCte('$5', '$6')},
         reader AS (SELECT 1 FROM accounts a, me WHERE a.id = $1 AND ${visibleToMe('a')}),
         b AS (
           SELECT o.*, ${COUNTERPARTY_COLUMNS},
                  (row_number() OVER (ORDER BY o.created_at, o.seq) - 1) / ${STATEMENT_PART} AS part
             FROM (SELECT o.* FROM operations o
                    WHERE EXISTS (SELECT 1 FROM reader) AND o.account_id = $1 AND ${
                      // One lower bound, so that it is where the index scan starts.
                      afterSeq === null
                        ? 'o.created_at >= $2'
                        : '(o.created_at, o.seq) > ((SELECT c.created_at FROM operations c WHERE c.seq = $2 AND c.account_id = $1), $2)'
                    }
                    ORDER BY o.created_at, o.seq LIMIT $4) o
             ${counterpartyJoin('o')}
            WHERE (o.created_at, o.seq) <= ((SELECT c.created_at FROM operations c WHERE c.seq = $3 AND c.account_id = $1), $3))
       SELECT flag.allowed, p.*
         FROM (SELECT EXISTS (SELECT 1 FROM reader) AS allowed) flag
         LEFT JOIN LATERAL (
           SELECT b.part, count(*)::int AS n,
                  (array_agg(b.seq ORDER BY b.created_at DESC, b.seq DESC))[1] AS last_seq,
                  (array_agg(b.balance_after ORDER BY b.created_at DESC, b.seq DESC))[1] AS closing,
                  coalesce(sum(b.amount) FILTER (WHERE b.type = 'credit'), 0) AS credits,
                  coalesce(sum(b.amount) FILTER (WHERE b.type = 'debit'), 0) AS debits,
                  string_agg(${format === 'json' ? JSON_ROW : CSV_ROW}, ${format === 'json' ? `','` : `E'\\r\\n'`}
                             ORDER BY b.created_at, b.seq) AS body
             FROM b GROUP BY b.part) p ON true
        ORDER BY p.part`,
      [accountId, afterSeq ?? start, lastSeq, limit, ...caller.params],
    );
    const found = parts.filter((part) => part.n > 0);
    const last = found[found.length - 1];
    return {
      allowed: parts[0].allowed,
      n: found.reduce((n, part) => n + part.n, 0),
      last_seq: last?.last_seq ?? null,
      closing: last?.closing ?? null,
      credits: found.reduce((sum, part) => sum + BigInt(part.credits), 0n),
      debits: found.reduce((sum, part) => sum + BigInt(part.debits), 0n),
      bodies: found.map((part) => part.body),
    };
  }
}

/**
 * An operation as the API shows it (toOperationDto), written by PostgreSQL.
 * Put together as text, at half the cost of json_build_object: every value
 * but the description is a UUID, a fixed word, an amount or an instant, which
 * need no escaping; the description is escaped by to_json.
 */
const JSON_ROW = `'{"id":"' || b.id || '","accountId":"' || b.account_id
    || '","type":"' || b.type || '","kind":"' || b.kind
    || '","amount":"' || money_text(b.amount) || '","balanceAfter":"' || money_text(b.balance_after)
    || '","description":' || coalesce(to_json(b.description)::text, 'null')
    || ',"transferId":' || coalesce('"' || b.transfer_id || '"', 'null')
    || ',"reversalOf":' || coalesce('"' || b.reversal_of || '"', 'null')
    || ',"reversedBy":' || coalesce('"' || (SELECT r.id FROM operations r WHERE r.reversal_of = b.id) || '"', 'null')
    || ',"counterparty":' || coalesce('{"accountNumber":"' || b.counterparty_number || '","name":'
         || coalesce(to_json(b.counterparty_name)::text, '""') || '}', 'null')
    || ',"performedBy":"' || b.performed_by || '","createdAt":"' || iso_instant(b.created_at) || '"}'`;

/**
 * date,id,kind,type,description,counterparty,amount,balanceAfter; debits
 * negative; the counterparty as `<accountNumber> <name>`, empty when none.
 */
const CSV_ROW = `iso_instant(b.created_at) || ',' || b.id || ',' || b.kind || ',' || b.type || ','
    || csv_cell(b.description) || ',' || csv_cell(rtrim(b.counterparty_number || ' ' || coalesce(b.counterparty_name, ''))) || ',' || CASE WHEN b.type = 'debit' THEN '-' ELSE '' END
    || money_text(b.amount) || ',' || money_text(b.balance_after)`;

/**
 * A page, newest first, of the rows `rows` (an index range) that match
 * `residual`. With residual filters (type, kind) the page reads at most
 * SCAN_WINDOW rows of the range: a rare kind on a long history costs the
 * same as any page, and a page that found fewer than it asked for continues
 * after the window (see scanWindowEnd).
 */
function pageSql(
  p: SqlParams,
  account: string | null,
  rows: string,
  residual: string,
  window: OperationsWindow,
): string {
  const range = `${rows}${before(p, account, window.afterSeq)}`;
  const from = residual
    ? `(SELECT * FROM operations o WHERE ${range}
         ORDER BY o.created_at DESC, o.seq DESC LIMIT ${SCAN_WINDOW}) o WHERE true${residual}`
    : `operations o WHERE ${range}`;
  // No OFFSET on a first or a cursor page: a generic plan costs an unknown OFFSET as a tenth
  // of the rows, which kept PostgreSQL planning the statement again at every execution, at
  // a cost larger than the page's own on a large ledger.
  const offset = window.offset > 0 ? ` OFFSET ${p.add(window.offset)}` : '';
  // Counterparties are joined to the page's rows only (a LATERAL join on the limited page), so
  // they cost a few index probes per row shown, never a probe per row read; the page's order
  // holds through the nested loop, so the outer ORDER BY needs no sort.
  return `SELECT pg.*, ${COUNTERPARTY_COLUMNS} FROM (
    SELECT ${OPERATION_COLUMNS} FROM ${from}
     ORDER BY o.created_at DESC, o.seq DESC
     LIMIT ${p.add(window.limit + 1)}${offset}) pg
    ${counterpartyJoin('pg')}
    ORDER BY pg.created_at DESC, pg.seq DESC`;
}

/**
 * Newest-first keyset: ` AND` rows before the operation `afterSeq` in
 * (created_at, seq) order; nothing from the start. (A bound that is always
 * true would still be taken as the scan's start, ahead of a `to` filter.)
 * The cursor's row is looked up within the list's account (the placeholder
 * `account`; null: the bank-wide list), so no cursor reads another
 * account's row: a seq from elsewhere bounds nothing and the page is empty.
 */
function before(p: SqlParams, account: string | null, afterSeq: string | null): string {
  if (afterSeq === null) return '';
  const seq = p.add(afterSeq, 'bigint');
  const scope = account ? ` AND c.account_id = ${account}` : '';
  return ` AND (o.created_at, o.seq) < ((SELECT c.created_at FROM operations c WHERE c.seq = ${seq}${scope}), ${seq})`;
}

/**
 * The filters as SQL: `range` bounds the index scan (created_at), `residual`
 * is checked on the rows read (type, kind). Only given filters appear, so
 * each combination is its own statement with its own plan.
 */
function filterConditions(
  p: SqlParams,
  filters: OperationFilterValues,
): { range: string; residual: string } {
  let range = '';
  let residual = '';
  if (filters.from) range += ` AND o.created_at >= ${p.add(filters.from, 'timestamptz')}`;
  if (filters.to) range += ` AND o.created_at < ${p.add(filters.to, 'timestamptz')}`;
  if (filters.type) residual += ` AND o.type = ${p.add(filters.type, 'varchar')}`;
  if (filters.kind) residual += ` AND o.kind = ${p.add(filters.kind, 'varchar')}`;
  return { range, residual };
}

/**
 * SQL: the number of rows of `rows` (an index range) that also match
 * `residual`, when the range holds at most COUNT_CAP rows; else NULL. The
 * range is counted from the index alone, and only a small range is read for
 * the residual filters.
 */
function cappedCount(p: SqlParams, rows: string, residual: string): string {
  const range = `(SELECT count(*) FROM (SELECT 1 FROM operations o WHERE ${rows} LIMIT ${p.add(COUNT_CAP + 1)}) r)`;
  if (!residual)
    return `(SELECT CASE WHEN n > ${COUNT_CAP} THEN NULL ELSE n END FROM ${range} AS c(n))`;
  return `(CASE WHEN ${range} > ${COUNT_CAP} THEN NULL
            ELSE (SELECT count(*) FROM operations o WHERE ${rows}${residual}) END)`;
}

const hasFilters = (f: OperationFilterValues) => !!(f.type || f.kind || f.from || f.to);

/** Names the statement of a filter combination (t: type, k: kind, f: from, u: until, c: cursor). */
const variant = (f: OperationFilterValues, w: OperationsWindow) =>
  `${f.type ? 't' : ''}${f.kind ? 'k' : ''}${f.from ? 'f' : ''}${f.to ? 'u' : ''}${w.afterSeq ? 'c' : ''}${w.offset > 0 ? 'o' : ''}` ||
  'all';
