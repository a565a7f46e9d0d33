import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { notActive } from '../accounts/accounts.service';
import { AuthUser } from '../common/auth.decorators';
import { pgCode } from '../common/transactions';
import { ApiError, notFound } from '../common/problem';
import { isStaff } from '../common/visibility';
import { IdempotencyRequest } from '../idempotency/idempotency';
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
/** Deposits and withdrawals are one atomic statement each: zero rows means refused (see explainRefusal). */
const SINGLE_MOVEMENT_SQL = {
  deposit: `WITH acc AS (
      UPDATE accounts SET balance = balance + $2 WHERE id = $1 AND status = 'active' RETURNING id, balance)
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, performed_by)
    SELECT id, 'credit', 'deposit', $2, balance, $3, $4 FROM acc RETURNING *`,
  withdrawal: `WITH acc AS (
      UPDATE accounts SET balance = balance - $2
       WHERE id = $1 AND status = 'active' AND balance - $2 >= -overdraft_limit RETURNING id, balance)
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, performed_by)
    SELECT id, 'debit', 'withdrawal', $2, balance, $3, $4 FROM acc RETURNING *`,
};

const SINGLE_STATEMENT = { singleStatement: true };

/**
 * Every money movement is one transaction that locks the account rows it
 * changes (several in id order) and writes the balance and the operation
 * together; the database CHECK (balance >= -overdraft_limit) backs the rule.
 */
@Injectable()
export class LedgerService {
  constructor(private readonly idempotency: IdempotencyService) {}

  deposit(
    user: AuthUser,
    accountId: string,
    dto: MoneyMovementDto,
    idem: IdempotencyRequest,
  ): Promise<OperationDto> {
    return this.single(user, accountId, dto, idem, 'deposit');
  }

  withdraw(
    user: AuthUser,
    accountId: string,
    dto: MoneyMovementDto,
    idem: IdempotencyRequest,
  ): Promise<OperationDto> {
    return this.single(user, accountId, dto, idem, 'withdrawal');
  }

  /** A deposit or withdrawal: one conditional UPDATE joined to its INSERT. */
  private single(
    user: AuthUser,
    accountId: string,
    dto: MoneyMovementDto,
    idem: IdempotencyRequest,
    kind: keyof typeof SINGLE_MOVEMENT_SQL,
  ): Promise<OperationDto> {
    return this.idempotency.run(
      idem,
      201,
      async (em, query) => {
        const rows = await query<OperationRow>(kind, SINGLE_MOVEMENT_SQL[kind], [
          accountId,
          dto.amount.toString(),
          dto.description ?? null,
          user.id,
        ]);
        if (rows.length === 0) await this.explainRefusal(em, accountId);
        return toOperationDto(rows[0]);
      },
      SINGLE_STATEMENT,
    );
  }

  /** Both legs or neither; a customer only from an account its client holds. */
  transfer(user: AuthUser, dto: TransferDto, idem: IdempotencyRequest): Promise<TransferResultDto> {
    return this.idempotency.run(idem, 201, async (em) => {
      const accounts = await this.lockAccounts(em, [dto.fromAccountId, dto.toAccountId]);
      const from = accounts.get(dto.fromAccountId);
      if (!from || !(await this.holds(em, user, from.id))) throw notFound('Account fromAccountId');
      const to = accounts.get(dto.toAccountId);
      if (!to) throw notFound('Account toAccountId');
      for (const account of [from, to])
        if (account.status !== 'active') throw notActive(account.status);
      if (from.currency !== to.currency) {
        throw new ApiError(
          'CURRENCY_MISMATCH',
          `Cannot transfer from ${from.currency} to ${to.currency}`,
        );
      }
      if (BigInt(from.balance) - dto.amount < -BigInt(from.overdraft_limit))
        throw insufficientFunds();
      const transferId = randomUUID();
      const common = {
        amount: dto.amount,
        description: dto.description ?? null,
        transferId,
        reversalOf: null,
      };
      const debit = await this.post(em, user, {
        ...common,
        accountId: from.id,
        type: 'debit',
        kind: 'transfer',
      });
      const credit = await this.post(em, user, {
        ...common,
        accountId: to.id,
        type: 'credit',
        kind: 'transfer',
      });
      return {
        id: transferId,
        amount: formatMoney(dto.amount),
        debit: toOperationDto(debit),
        credit: (await this.holds(em, user, to.id))
          ? toOperationDto(credit)
          : toOperationSummary(credit),
      };
    });
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
  ): Promise<OperationDto> {
    return this.idempotency.run(idem, 201, async (em) => {
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
      `WITH acc AS (UPDATE accounts SET balance = balance + $2 WHERE id = $1 RETURNING id, balance)
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

  /** Locks the accounts in id order, so two movements over the same accounts cannot deadlock. */
  private async lockAccounts(
    em: EntityManager,
    ids: string[],
  ): Promise<Map<string, LockedAccount>> {
    const rows = await em.query<LockedAccount[]>(
      `SELECT id, currency, balance, overdraft_limit, status FROM accounts
        WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      [[...new Set(ids)]],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  private async holds(em: EntityManager, user: AuthUser, accountId: string): Promise<boolean> {
    if (isStaff(user)) return true;
    const rows = await em.query<unknown[]>(
      `SELECT 1 FROM account_holders WHERE account_id = $1 AND client_id = $2`,
      [accountId, user.clientId],
    );
    return rows.length > 0;
  }

  /** A conditional update changed nothing: say why. */
  private async explainRefusal(em: EntityManager, accountId: string): Promise<never> {
    const [account] = await em.query<Array<{ status: string }>>(
      `SELECT status FROM accounts WHERE id = $1`,
      [accountId],
    );
    if (!account) throw notFound('Account');
    if (account.status !== 'active') throw notActive(account.status);
    throw insufficientFunds();
  }
}
