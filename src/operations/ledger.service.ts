import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Caller, ME_COLUMNS, ME_CTE, meHasRole, MeRow } from '../auth/caller';
import { accountVisibleSql, visibilityParam } from '../auth/visibility';
import { SessionsService } from '../auth/sessions.service';
import { onManager, onPool, Querier } from '../common/prepared';
import { notActive } from '../accounts/accounts.service';
import { AuthUser } from '../auth/auth.decorators';
import { inTransaction, pgCode } from '../common/transactions';
import { ApiError, notFound } from '../common/problem';
import { IdempotencyRequest, Replay } from '../idempotency/idempotency';
import { IdempotencyService } from '../idempotency/idempotency.service';
import {
  MoneyMovementDto,
  OperationDto,
  ReverseDto,
  TransferDto,
  TransferResultDto,
} from './dto/operations.dto';
import { OperationKind, OperationType } from './operation.entity';
import { OperationRow, toOperationDto, toOperationSummary } from './operation-view';
import { formatMoney } from '../common/money';

interface LockedAccount {
  id: string;
  currency: string;
  balance: string;
  overdraft_limit: string;
  status: string;
}

interface Leg {
  accountId: string;
  type: OperationType;
  kind: OperationKind;
  amount: bigint;
  description: string | null;
  transferId: string | null;
  reversalOf: string | null;
}

const insufficientFunds = () =>
  new ApiError(
    'INSUFFICIENT_FUNDS',
    'The balance plus the overdraft limit does not cover this amount',
  );
/**
 * A deposit or a withdrawal is one atomic statement: the caller's session
 * ($1, $2) and role ($6), a conditional UPDATE of account $3 by amount $4,
 * and its operation (description $5). No operation row means refused (see
 * explainRefusal).
 */
const movementSql = (credit: boolean) => `WITH ${ME_CTE},
  acc AS (
    UPDATE accounts SET balance = balance ${credit ? '+' : '-'} $4, operation_count = operation_count + 1
     WHERE id = $3 AND status = 'active' AND EXISTS (SELECT 1 FROM me WHERE ${meHasRole('$6')})
       ${credit ? '' : 'AND balance - $4 >= -overdraft_limit'}
    RETURNING id, balance),
  op AS (
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, performed_by)
    SELECT acc.id, '${credit ? 'credit' : 'debit'}', '${credit ? 'deposit' : 'withdrawal'}', $4, acc.balance, $5, me.id
      FROM acc, me
    RETURNING *)
  SELECT ${ME_COLUMNS}, op.* FROM me LEFT JOIN op ON true`;

const MOVEMENT_SQL = { deposit: movementSql(true), withdrawal: movementSql(false) };

/**
 * A transfer takes two statements in one transaction. The first checks the
 * caller's session ($1, $2) and locks both accounts ($3, $4) in id order; it
 * decides nothing. Values read by a locking statement may be those of its
 * snapshot, from before a concurrent movement it waited for committed: a
 * single statement that checked the balance it locked and then updated it
 * let the table's CHECK, not its own rule, stop an overdraft under
 * contention. The second statement starts after the locks are held, so it
 * reads the accounts as they are and no one can change them until commit.
 */
const LOCK_TRANSFER_SQL = `WITH ${ME_CTE},
  locked AS (
    SELECT id FROM accounts WHERE id IN ($3, $4) AND EXISTS (SELECT 1 FROM me) ORDER BY id FOR UPDATE)
  SELECT ${ME_COLUMNS}, (SELECT count(*) FROM locked) AS locked FROM me`;

/**
 * Then every rule on the locked rows (the caller's visibility $1: null for
 * staff, else its client), both balances and both legs (accounts $2 from, $3
 * to, amount $4, description $5, transfer id $6, performed by $7) written,
 * or nothing. Its rows are the legs, or one row that says why not.
 */
const TRANSFER_SQL = `WITH
  src AS (SELECT a.*, ${accountVisibleSql('a', '$1')} AS mine FROM accounts a WHERE a.id = $2),
  dst AS (SELECT a.*, ${accountVisibleSql('a', '$1')} AS mine FROM accounts a WHERE a.id = $3),
  ok AS (
    SELECT 1 FROM src, dst
     WHERE src.id <> dst.id AND src.mine AND src.status = 'active' AND dst.status = 'active'
       AND src.currency = dst.currency AND src.balance - $4 >= -src.overdraft_limit),
  moved AS (
    UPDATE accounts a SET balance = a.balance + CASE WHEN a.id = $2 THEN -$4::bigint ELSE $4::bigint END,
           operation_count = a.operation_count + 1
      FROM ok WHERE a.id IN ($2, $3) RETURNING a.id, a.balance),
  legs AS (
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, transfer_id, performed_by)
    SELECT m.id, CASE WHEN m.id = $2 THEN 'debit' ELSE 'credit' END, 'transfer', $4, m.balance, $5, $6, $7
      FROM moved m
    RETURNING *)
  SELECT s.status AS src_status, s.currency AS src_currency, s.mine AS src_mine,
         d.status AS dst_status, d.currency AS dst_currency, d.mine AS dst_mine, legs.*
    FROM (SELECT 1) one LEFT JOIN src s ON true LEFT JOIN dst d ON true LEFT JOIN legs ON true`;

interface TransferRow extends Partial<OperationRow> {
  src_status: string | null;
  src_currency: string | null;
  src_mine: boolean | null;
  dst_status: string | null;
  dst_currency: string | null;
  dst_mine: boolean | null;
}

/**
 * Every money movement locks the account rows it changes (several in id
 * order) and writes the balance and the operation together; the database
 * CHECK (balance >= -overdraft_limit) backs the rule. Deposits, withdrawals
 * and transfers are single statements that also check the caller's session.
 */
@Injectable()
export class LedgerService {
  constructor(
    private readonly db: DataSource,
    private readonly idempotency: IdempotencyService,
    private readonly sessions: SessionsService,
  ) {}

  deposit(
    caller: Caller,
    accountId: string,
    dto: MoneyMovementDto,
    idem: IdempotencyRequest,
  ): Promise<OperationDto | Replay> {
    return this.single(caller, accountId, dto, idem, 'deposit');
  }

  withdraw(
    caller: Caller,
    accountId: string,
    dto: MoneyMovementDto,
    idem: IdempotencyRequest,
  ): Promise<OperationDto | Replay> {
    return this.single(caller, accountId, dto, idem, 'withdrawal');
  }

  private async single(
    caller: Caller,
    accountId: string,
    dto: MoneyMovementDto,
    idem: IdempotencyRequest,
    kind: keyof typeof MOVEMENT_SQL,
  ): Promise<OperationDto | Replay> {
    const values = [
      ...caller.params,
      accountId,
      dto.amount.toString(),
      dto.description ?? null,
      caller.roles,
    ];
    const move = async (query: Querier) => {
      const [row] = await query<MeRow & Partial<OperationRow>>(kind, MOVEMENT_SQL[kind], values);
      caller.settle(row);
      if (!row.id) await this.explainRefusal(query, accountId);
      return toOperationDto(row as OperationRow);
    };
    return this.once(caller, idem, move);
  }

  /** Both legs or neither; a customer only from an account its client holds. */
  async transfer(
    caller: Caller,
    dto: TransferDto,
    idem: IdempotencyRequest,
  ): Promise<TransferResultDto | Replay> {
    const transferId = randomUUID();
    const accounts = [dto.fromAccountId, dto.toAccountId];
    const move = async (query: Querier): Promise<TransferResultDto> => {
      const [me] = await query<MeRow>('transfer-lock', LOCK_TRANSFER_SQL, [
        ...caller.params,
        ...accounts,
      ]);
      const user = caller.settle(me);
      const rows = await query<TransferRow>('transfer', TRANSFER_SQL, [
        visibilityParam(user),
        ...accounts,
        dto.amount.toString(),
        dto.description ?? null,
        transferId,
        user.id,
      ]);
      const [row] = rows;
      if (!row.src_status || !row.src_mine) throw notFound('Account fromAccountId');
      if (!row.dst_status) throw notFound('Account toAccountId');
      // A customer paying someone else learns that the payment is refused, not the state or
      // the currency of an account it may not read.
      const foreign = !row.dst_mine;
      if (row.src_status !== 'active') throw notActive(row.src_status);
      if (row.dst_status !== 'active') {
        throw foreign
          ? new ApiError('ACCOUNT_NOT_ACTIVE', 'The destination account cannot receive transfers')
          : notActive(row.dst_status);
      }
      if (row.src_currency !== row.dst_currency) {
        throw new ApiError(
          'CURRENCY_MISMATCH',
          foreign
            ? 'The destination account cannot receive this currency'
            : `Cannot transfer from ${row.src_currency} to ${row.dst_currency}`,
        );
      }
      const debit = rows.find((r) => r.type === 'debit');
      const credit = rows.find((r) => r.type === 'credit');
      if (!debit || !credit) throw insufficientFunds();
      return {
        id: transferId,
        amount: formatMoney(dto.amount),
        debit: toOperationDto(debit as OperationRow),
        credit: row.dst_mine
          ? toOperationDto(credit as OperationRow)
          : toOperationSummary(credit as OperationRow),
      };
    };
    if (!idem.key) return inTransaction(this.db, (em) => move(onManager(em)));
    await this.sessions.resolve(caller);
    return this.idempotency.run(idem, (em) => move(onManager(em)));
  }

  /**
   * Runs a single-statement movement: without a key on the pool (the
   * statement commits on its own); with one, after checking the session (the
   * key is claimed in the caller's name) and inside the key's transaction.
   */
  private async once<T extends object>(
    caller: Caller,
    idem: IdempotencyRequest,
    move: (query: Querier) => Promise<T>,
  ): Promise<T | Replay> {
    if (!idem.key) return move(onPool(this.db));
    await this.sessions.resolve(caller);
    return this.idempotency.run(idem, (em) => move(onManager(em)));
  }

  /**
   * Compensates an operation; either leg of a transfer reverses both legs as a
   * new transfer. Answers the compensating operation of the one given.
   */
  reverse(
    user: AuthUser,
    operationId: string,
    dto: ReverseDto,
    idem: IdempotencyRequest,
  ): Promise<OperationDto | Replay> {
    return this.idempotency.run(idem, async (em) => {
      const [original] = await em.query<OperationRow[]>(`SELECT * FROM operations WHERE id = $1`, [
        operationId,
      ]);
      if (!original) throw notFound('Operation');
      if (original.kind === 'reversal')
        throw new ApiError('CONFLICT', 'A reversal cannot itself be reversed');
      const legs = original.transfer_id
        ? await em.query<OperationRow[]>(
            `SELECT * FROM operations WHERE transfer_id = $1 ORDER BY seq`,
            [original.transfer_id],
          )
        : [original];
      const accounts = await this.lockAccounts(
        em,
        legs.map((l) => l.account_id),
      );
      // Checked under the account locks, so two concurrent reversals cannot both pass.
      const done = await em.query<unknown[]>(
        `SELECT 1 FROM operations WHERE reversal_of = ANY($1::uuid[])`,
        [legs.map((l) => l.id)],
      );
      if (done.length > 0)
        throw new ApiError('ALREADY_REVERSED', 'This operation has already been reversed');
      const transferId = legs.length > 1 ? randomUUID() : null;
      const compensations: Leg[] = legs.map((leg) => ({
        accountId: leg.account_id,
        type: leg.type === 'credit' ? 'debit' : 'credit',
        kind: 'reversal',
        amount: BigInt(leg.amount),
        description: dto.description ?? `Reversal of ${leg.id}`,
        transferId,
        reversalOf: leg.id,
      }));
      for (const c of compensations) {
        const account = accounts.get(c.accountId)!;
        if (account.status === 'closed') throw notActive('closed');
        if (
          c.type === 'debit' &&
          BigInt(account.balance) - c.amount < -BigInt(account.overdraft_limit)
        ) {
          throw insufficientFunds();
        }
      }
      let answer: OperationRow | undefined;
      try {
        for (const c of compensations) {
          const row = await this.post(em, user, c);
          if (c.reversalOf === original.id) answer = row;
        }
      } catch (error) {
        if (pgCode(error) === '23505') {
          throw new ApiError('ALREADY_REVERSED', 'This operation has already been reversed');
        }
        throw error;
      }
      return toOperationDto(answer!);
    });
  }

  /** Applies one leg to a locked account: new balance and the operation row, in one statement. */
  private async post(em: EntityManager, user: AuthUser, leg: Leg): Promise<OperationRow> {
    const delta = leg.type === 'credit' ? leg.amount : -leg.amount;
    const [row] = await em.query<OperationRow[]>(
      `WITH acc AS (UPDATE accounts SET balance = balance + $2, operation_count = operation_count + 1
                    WHERE id = $1 RETURNING id, balance)
       INSERT INTO operations (account_id, type, kind, amount, balance_after, description, transfer_id, reversal_of, performed_by)
       SELECT id, $3, $4, $5, balance, $6, $7, $8, $9 FROM acc RETURNING *`,
      [
        leg.accountId,
        delta.toString(),
        leg.type,
        leg.kind,
        leg.amount.toString(),
        leg.description,
        leg.transferId,
        leg.reversalOf,
        user.id,
      ],
    );
    return row;
  }

  /**
   * Locks the accounts in id order, so two movements over the same accounts
   * cannot deadlock, then reads them: a locking statement's own values may
   * predate a movement it waited for (see LOCK_TRANSFER_SQL).
   */
  private async lockAccounts(
    em: EntityManager,
    ids: string[],
  ): Promise<Map<string, LockedAccount>> {
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

  /** A conditional update changed nothing: say why. */
  private async explainRefusal(query: Querier, accountId: string): Promise<never> {
    const [account] = await query<{ status: string }>(
      'account-status',
      `SELECT status FROM accounts WHERE id = $1`,
      [accountId],
    );
    if (!account) throw notFound('Account');
    if (account.status !== 'active') throw notActive(account.status);
    throw insufficientFunds();
  }
}
