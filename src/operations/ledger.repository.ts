import { Injectable } from '@nestjs/common';
import { requestTrace } from '../common/request-context';
import { EntityManager } from 'typeorm';
import { statusPermitsSql } from '../accounts/account-status';
import { ME_COLUMNS, meCte, meHasRole, MeRow, accountVisibleSql } from '../auth';
import { Querier } from '../common/prepared';
import { OperationKind, OperationType } from './operation.entity';
import { holderNamesSql, OperationRow } from './operation-view';

export interface LockedAccount {
  id: string;
  currency: string;
  balance: string;
  overdraft_limit: string;
  status: string;
}

/** One leg of a reversal, to apply to an account locked beforehand. */
export interface Leg {
  accountId: string;
  type: OperationType;
  kind: OperationKind;
  amount: bigint;
  description: string | null;
  transferId: string | null;
  reversalOf: string | null;
  /** The other account of a transfer's reversal: the leg's counterparty. */
  counterpartyAccountId: string | null;
}

/** SQL: an operation's audit data: its account, amount and the balance after it, as money text. */
const moneyEventData = (account: string, op: string) =>
  `jsonb_build_object('accountId', ${account}, 'amount', (${op}.amount::numeric / 100)::numeric(20, 2)::text,
     'balanceAfter', (${op}.balance_after::numeric / 100)::numeric(20, 2)::text)`;

/**
 * A deposit or a withdrawal is one atomic statement: the caller's session
 * ($1, $2) and role ($6), a conditional UPDATE of account $3 by amount $4,
 * its operation (description $5), and its audit event (where from: $7 ip,
 * $8 user agent, $9 request id). No operation row means refused (see
 * explainRefusal).
 */
const movementSql = (credit: boolean) => `WITH ${meCte('$1', '$2')},
  acc AS (
    UPDATE accounts SET balance = balance ${credit ? '+' : '-'} $4, operation_count = operation_count + 1
     WHERE id = $3 AND ${statusPermitsSql('status', credit ? 'credit' : 'debit')} AND EXISTS (SELECT 1 FROM me WHERE ${meHasRole('$6')})
       ${credit ? '' : 'AND balance - $4 >= -overdraft_limit'}
    RETURNING id, balance),
  op AS (
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, performed_by)
    SELECT acc.id, '${credit ? 'credit' : 'debit'}', '${credit ? 'deposit' : 'withdrawal'}', $4, acc.balance, $5, me.id
      FROM acc, me
    RETURNING *),
  audit AS (
    INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type, subject_id,
                              ip, user_agent, request_id, data)
    SELECT 'operation.${credit ? 'deposit' : 'withdrawal'}', me.id, me.username, me.role, 'operation', op.id::text,
           $7, $8, $9, ${moneyEventData('op.account_id', 'op')}
      FROM op, me)
  SELECT ${ME_COLUMNS}, op.* FROM me LEFT JOIN op ON true`;

const MOVEMENT_SQL = { deposit: movementSql(true), withdrawal: movementSql(false) };

/**
 * A transfer takes two statements in one transaction. The first checks the
 * caller's session ($1, $2), finds the destination (account $4, or the
 * account numbered $5: the number is resolved here, in the statement that
 * locks, at no extra round trip) and locks both accounts (source $3) in id
 * order; it decides nothing. Values read by a locking statement may be those
 * of its snapshot, from before a concurrent movement it waited for
 * committed: a single statement that checked the balance it locked and then
 * updated it let the table's CHECK, not its own rule, stop an overdraft
 * under contention. The second statement starts after the locks are held,
 * so it reads the accounts as they are and no one can change them until
 * commit. An account's number never changes, so the id found is the one
 * locked.
 */
const LOCK_TRANSFER_SQL = `WITH ${meCte('$1', '$2')},
  dest AS (SELECT coalesce($4::uuid, (SELECT a.id FROM accounts a WHERE a.number = $5::varchar)) AS id),
  locked AS (
    SELECT id FROM accounts WHERE id IN ($3, (SELECT id FROM dest)) AND EXISTS (SELECT 1 FROM me) ORDER BY id FOR UPDATE)
  SELECT ${ME_COLUMNS}, (SELECT count(*) FROM locked) AS locked, (SELECT id FROM dest) AS to_id FROM me`;

/**
 * Then every rule on the locked rows (the caller's visibility $1: null for
 * staff, else its client), both balances and both legs (accounts $2 from, $3
 * to, none when a number named no account, amount $4, description $5,
 * transfer id $6, performed by $7, whose username $8 and role $9, from $10
 * ip, $11 user agent, $12 request id, for its audit event) written, or
 * nothing. Its rows are the
 * legs, each with its counterparty (the other account's number and holders),
 * or one row that says why not: each account's state and whether the source
 * covers the amount, all read after the locks, so the service may decide in
 * any order which refusal to give.
 */
const TRANSFER_SQL = `WITH
  src AS (SELECT a.*, ${accountVisibleSql('a', '$1')} AS mine FROM accounts a WHERE a.id = $2),
  dst AS (SELECT a.*, ${accountVisibleSql('a', '$1')} AS mine FROM accounts a WHERE a.id = $3),
  ok AS (
    SELECT 1 FROM src, dst
     WHERE src.id <> dst.id AND src.mine
       AND ${statusPermitsSql('src.status', 'debit')} AND ${statusPermitsSql('dst.status', 'credit')}
       AND src.currency = dst.currency AND src.balance - $4 >= -src.overdraft_limit),
  moved AS (
    UPDATE accounts a SET balance = a.balance + CASE WHEN a.id = $2 THEN -$4::bigint ELSE $4::bigint END,
           operation_count = a.operation_count + 1
      FROM ok WHERE a.id IN ($2, $3) RETURNING a.id, a.balance),
  legs AS (
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, transfer_id, performed_by)
    SELECT m.id, CASE WHEN m.id = $2 THEN 'debit' ELSE 'credit' END, 'transfer', $4, m.balance, $5, $6, $7
      FROM moved m
    RETURNING *),
  audit AS (
    INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type, subject_id,
                              ip, user_agent, request_id, data)
    SELECT 'operation.transfer', $7, $8, $9, 'transfer', $6::text, $10, $11, $12,
           jsonb_build_object('fromAccountId', $2::uuid, 'toAccountId', $3::uuid,
             'amount', ($4::numeric / 100)::numeric(20, 2)::text)
     WHERE EXISTS (SELECT 1 FROM legs))
  SELECT s.status AS src_status, s.currency AS src_currency, s.mine AS src_mine,
         s.balance - $4 >= -s.overdraft_limit AS src_covers, d.status AS dst_status, d.currency AS dst_currency, d.mine AS dst_mine, legs.*,
         CASE WHEN legs.account_id = s.id THEN d.number ELSE s.number END AS counterparty_number,
         CASE WHEN legs.id IS NOT NULL THEN ${holderNamesSql('CASE WHEN legs.account_id = s.id THEN d.id ELSE s.id END')} END AS counterparty_name
    FROM (SELECT 1) one LEFT JOIN src s ON true LEFT JOIN dst d ON true LEFT JOIN legs ON true`;

export interface TransferRow extends Partial<OperationRow> {
  src_status: string | null;
  src_currency: string | null;
  src_mine: boolean | null;
  /** The source's balance less the amount stays within its overdraft limit. */
  src_covers: boolean | null;
  dst_status: string | null;
  dst_currency: string | null;
  dst_mine: boolean | null;
}

/** What a deposit or a withdrawal statement binds. */
export interface MovementValues {
  /** The caller's session and user (Caller.params). */
  session: [string, string];
  accountId: string;
  amount: bigint;
  description: string | null;
  /** Roles the route allows (empty: any). */
  roles: string[];
}

/** What the transfer statement binds, once the session is known and the accounts locked. */
export interface TransferValues {
  /** visibilityParam of the caller: null for staff, else its client. */
  visibility: string | null;
  from: string;
  /** The destination found by lockTransfer (null: its number named no account). */
  to: string | null;
  amount: bigint;
  description: string | null;
  transferId: string;
  performedBy: string;
  performerName: string;
  performerRole: string;
}

/** Where the request came from, for a statement's audit event: ip, user agent, request id. */
const traceValues = (): [string | null, string | null, string | null] => {
  const { ip, userAgent, requestId } = requestTrace();
  return [ip, userAgent, requestId];
};

/**
 * The ledger's SQL: every statement that moves money or locks what it moves.
 * A movement's and a transfer's statements take the Querier they run on:
 * the pool (a statement that commits on its own) or a transaction's
 * connection (with an Idempotency-Key, a transfer). A reversal's take its
 * transaction's EntityManager. The rules that decide from their rows are
 * LedgerService's.
 */
@Injectable()
export class LedgerRepository {
  /**
   * A deposit or a withdrawal, with the caller's session: the `me` columns,
   * and the operation's columns when the movement was made (null: refused).
   * No row at all: the session has ended, and nothing moved.
   */
  async move(
    query: Querier,
    kind: keyof typeof MOVEMENT_SQL,
    v: MovementValues,
  ): Promise<(MeRow & Partial<OperationRow>) | undefined> {
    const [row] = await query<MeRow & Partial<OperationRow>>(kind, MOVEMENT_SQL[kind], [
      ...v.session,
      v.accountId,
      v.amount.toString(),
      v.description,
      v.roles,
      ...traceValues(),
    ]);
    return row;
  }

  /**
   * The caller's `me` row (none: the session has ended), with both accounts
   * locked, and the destination's id (`to_id`): `accounts[1]`, or the account
   * numbered `toNumber`; null when that number names no account.
   */
  async lockTransfer(
    query: Querier,
    session: [string, string],
    accounts: [string, string | null],
    toNumber: string | null = null,
  ): Promise<(MeRow & { to_id: string | null }) | undefined> {
    const [me] = await query<MeRow & { to_id: string | null }>('transfer-lock', LOCK_TRANSFER_SQL, [
      ...session,
      ...accounts,
      toNumber,
    ]);
    return me;
  }

  /** Both legs of a transfer written, or one row that says why not (see TRANSFER_SQL). */
  transfer(query: Querier, v: TransferValues): Promise<TransferRow[]> {
    return query<TransferRow>('transfer', TRANSFER_SQL, [
      v.visibility,
      v.from,
      v.to,
      v.amount.toString(),
      v.description,
      v.transferId,
      v.performedBy,
      v.performerName,
      v.performerRole,
      ...traceValues(),
    ]);
  }

  /** The status of an account, or undefined when there is none. */
  async accountStatus(query: Querier, accountId: string): Promise<string | undefined> {
    const [account] = await query<{ status: string }>(
      'account-status',
      `SELECT status FROM accounts WHERE id = $1`,
      [accountId],
    );
    return account?.status;
  }

  async operation(em: EntityManager, id: string): Promise<OperationRow | undefined> {
    const [row] = await em.query<OperationRow[]>(`SELECT * FROM operations WHERE id = $1`, [id]);
    return row;
  }

  /** Both legs of a transfer, debit first (the order they were written in). */
  transferLegs(em: EntityManager, transferId: string): Promise<OperationRow[]> {
    return em.query<OperationRow[]>(
      `SELECT * FROM operations WHERE transfer_id = $1 ORDER BY seq`,
      [transferId],
    );
  }

  /** Whether any of the operations has a reversal. Under the accounts' locks, it stays so. */
  async anyReversed(em: EntityManager, operationIds: string[]): Promise<boolean> {
    const rows = await em.query<unknown[]>(
      `SELECT 1 FROM operations WHERE reversal_of = ANY($1::uuid[]) LIMIT 1`,
      [operationIds],
    );
    return rows.length > 0;
  }

  /**
   * Locks the accounts in id order, so two movements over the same accounts
   * cannot deadlock, then reads them: a locking statement's own values may
   * predate a movement it waited for (see LOCK_TRANSFER_SQL).
   */
  async lockAccounts(em: EntityManager, ids: string[]): Promise<Map<string, LockedAccount>> {
    const unique = [...new Set(ids)];
    await em.query(`SELECT 1 FROM accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [
      unique,
    ]);
    const rows = await em.query<LockedAccount[]>(
      `SELECT id, currency, balance, overdraft_limit, status FROM accounts WHERE id = ANY($1::uuid[])`,
      [unique],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  /**
   * Applies one leg to an account locked by lockAccounts: its new balance
   * and its operation row, with its counterparty, in one statement.
   */
  async post(em: EntityManager, leg: Leg, performedBy: string): Promise<OperationRow> {
    const delta = leg.type === 'credit' ? leg.amount : -leg.amount;
    const [row] = await em.query<OperationRow[]>(
      `WITH acc AS (UPDATE accounts SET balance = balance + $2, operation_count = operation_count + 1
                    WHERE id = $1 RETURNING id, balance),
            op AS (
              INSERT INTO operations (account_id, type, kind, amount, balance_after, description, transfer_id, reversal_of, performed_by)
              SELECT id, $3, $4, $5, balance, $6, $7, $8, $9 FROM acc RETURNING *)
       SELECT op.*, ca.number AS counterparty_number, ${holderNamesSql('ca.id')} AS counterparty_name
         FROM op LEFT JOIN accounts ca ON ca.id = $10::uuid`,
      [
        leg.accountId,
        delta.toString(),
        leg.type,
        leg.kind,
        leg.amount.toString(),
        leg.description,
        leg.transferId,
        leg.reversalOf,
        performedBy,
        leg.counterpartyAccountId,
      ],
    );
    return row;
  }
}
