import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { auditActor, Caller, isStaff, visibilityParam, SessionsService, AuthUser } from '../auth';
import { AuditService } from '../audit/audit.service';
import { onManager, onPool, Querier } from '../common/prepared';
import { requirePermission } from '../accounts/account.errors';
import { permits } from '../accounts/account-status';
import { inTransaction, pgCode } from '../common/transactions';
import { ApiError, notFound, validationFailed } from '../common/problem';
import { IdempotencyRequest, Replay } from '../idempotency/idempotency';
import { IdempotencyService } from '../idempotency/idempotency.service';
import {
  MoneyMovementDto,
  OperationDto,
  ReverseDto,
  TransferDto,
  TransferResultDto,
} from './dto/operations.dto';
import { OperationRow, toOperationDto, toOperationSummary } from './operation-view';
import { Leg, LedgerRepository, MovementValues, TransferRow } from './ledger.repository';
import { formatMoney } from '../common/money';
import { insufficientFunds } from './operation.errors';

/** The codes of a money request refused by a rule: recorded as refused in the audit log. */
const REFUSALS = new Set<string>([
  'NOT_FOUND',
  'FORBIDDEN',
  'ACCOUNT_NOT_ACTIVE',
  'INSUFFICIENT_FUNDS',
  'CURRENCY_MISMATCH',
  'PAYEE_UNAVAILABLE',
  'UNKNOWN_ACCOUNT_NUMBER',
  'ALREADY_REVERSED',
  'CONFLICT',
  'VALIDATION_FAILED',
]);

/** toAccountNumber named the source account itself (toAccountId is checked as the body is). */
const sameAccount = () =>
  validationFailed(
    [
      {
        field: 'toAccountNumber',
        message: 'toAccountNumber must name another account than fromAccountId',
      },
    ],
    'A transfer needs two accounts',
  );

/**
 * A customer's transfer to an account it does not hold, refused: it learns
 * no more of that account than verification of payee would tell. The
 * source's own checks come first; then whatever is wrong with the
 * destination (none, no account with its number, frozen, closed, another
 * currency) is one answer.
 */
function refuseForeign(row: TransferRow): void {
  requirePermission(row.src_status!, 'debit');
  if (!row.src_covers) throw insufficientFunds();
  if (!permits(row.dst_status, 'credit') || row.src_currency !== row.dst_currency) {
    throw new ApiError('PAYEE_UNAVAILABLE', 'The payee account cannot receive this transfer');
  }
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
    private readonly ledger: LedgerRepository,
    private readonly idempotency: IdempotencyService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
  ) {}

  /**
   * A money request refused by a rule (funds, status, currency, payee...):
   * recorded apart, with its code, since its own transaction rolls back.
   * A request whose session had ended, or that was malformed, is not one.
   */
  private async refused<T>(
    user: () => AuthUser | undefined,
    kind: 'deposit' | 'withdrawal' | 'transfer' | 'reversal',
    data: Record<string, unknown>,
    attempt: Promise<T>,
  ): Promise<T> {
    try {
      const done = await attempt;
      this.audit.noteWritten(); // its event was written by the movement's own statement
      return done;
    } catch (error) {
      const who = user();
      if (who && error instanceof ApiError && REFUSALS.has(error.code)) {
        try {
          await this.audit.recordApart({
            type: `operation.${kind}`,
            actor: auditActor(who),
            subject: null,
            outcome: 'refused',
            reason: error.code,
            data,
          });
        } catch {
          // The refusal is the answer: a record that failed must not hide it.
        }
      }
      throw error;
    }
  }

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
    kind: 'deposit' | 'withdrawal',
  ): Promise<OperationDto | Replay> {
    const values: MovementValues = {
      session: caller.params,
      accountId,
      amount: dto.amount,
      description: dto.description ?? null,
      roles: caller.roles,
    };
    const move = async (query: Querier) => {
      const row = await this.ledger.move(query, kind, values);
      caller.settle(row);
      if (!row?.id)
        await this.explainRefusal(query, accountId, kind === 'deposit' ? 'credit' : 'debit');
      return toOperationDto(row as OperationRow);
    };
    return this.refused(
      () => caller.user,
      kind,
      { accountId, amount: formatMoney(dto.amount) },
      this.once(caller, idem, move),
    );
  }

  /** Both legs or neither; a customer only from an account its client holds. */
  async transfer(
    caller: Caller,
    dto: TransferDto,
    idem: IdempotencyRequest,
  ): Promise<TransferResultDto | Replay> {
    const transferId = randomUUID();
    const move = async (query: Querier): Promise<TransferResultDto> => {
      const me = await this.ledger.lockTransfer(
        query,
        caller.params,
        [dto.fromAccountId, dto.toAccountId ?? null],
        dto.toAccountNumber ?? null,
      );
      const user = caller.settle(me);
      const to = me!.to_id;
      const rows = await this.ledger.transfer(query, {
        visibility: visibilityParam(user),
        from: dto.fromAccountId,
        to,
        amount: dto.amount,
        description: dto.description ?? null,
        transferId,
        performedBy: user.id,
        performerName: user.username,
        performerRole: user.role,
      });
      const [row] = rows;
      if (!row.src_status || !row.src_mine) throw notFound('Account fromAccountId');
      if (to === dto.fromAccountId) throw sameAccount();
      if (!isStaff(user) && !row.dst_mine) refuseForeign(row);
      if (!row.dst_status) {
        if (dto.toAccountNumber !== undefined) {
          throw new ApiError('UNKNOWN_ACCOUNT_NUMBER', 'No account has this number');
        }
        throw notFound('Account toAccountId');
      }
      requirePermission(row.src_status, 'debit');
      requirePermission(row.dst_status, 'credit');
      if (row.src_currency !== row.dst_currency) {
        throw new ApiError(
          'CURRENCY_MISMATCH',
          `Cannot transfer from ${row.src_currency} to ${row.dst_currency}`,
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
    const data = {
      fromAccountId: dto.fromAccountId,
      toAccountId: dto.toAccountId ?? null,
      toAccountNumber: dto.toAccountNumber ?? null,
      amount: formatMoney(dto.amount),
    };
    if (!idem.key) {
      return this.refused(
        () => caller.user,
        'transfer',
        data,
        inTransaction(this.db, (em) => move(onManager(em))),
      );
    }
    await this.sessions.resolve(caller);
    return this.refused(
      () => caller.user,
      'transfer',
      data,
      this.idempotency.run(idem, (em) => move(onManager(em))),
    );
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
    const reversal = this.idempotency.run(idem, async (em) => {
      const original = await this.ledger.operation(em, operationId);
      if (!original) throw notFound('Operation');
      if (original.kind === 'reversal')
        throw new ApiError('CONFLICT', 'A reversal cannot itself be reversed');
      const legs = original.transfer_id
        ? await this.ledger.transferLegs(em, original.transfer_id)
        : [original];
      const accounts = await this.ledger.lockAccounts(
        em,
        legs.map((l) => l.account_id),
      );
      // Checked under the account locks, so two concurrent reversals cannot both pass.
      if (
        await this.ledger.anyReversed(
          em,
          legs.map((l) => l.id),
        )
      )
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
        counterpartyAccountId: transferId
          ? (legs.find((other) => other.id !== leg.id)?.account_id ?? null)
          : null,
      }));
      for (const c of compensations) {
        const account = accounts.get(c.accountId)!;
        requirePermission(account.status, 'reverse');
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
          const row = await this.ledger.post(em, c, user.id);
          if (c.reversalOf === original.id) answer = row;
        }
      } catch (error) {
        if (pgCode(error) === '23505') {
          throw new ApiError('ALREADY_REVERSED', 'This operation has already been reversed');
        }
        throw error;
      }
      await this.audit.record(em, {
        type: 'operation.reversal',
        actor: auditActor(user),
        subject: { type: 'operation', id: original.id },
        data: {
          reversalId: answer!.id,
          transferId,
          legs: compensations.map((c) => ({
            accountId: c.accountId,
            type: c.type,
            amount: formatMoney(c.amount),
          })),
        },
      });
      return toOperationDto(answer!);
    });
    return this.refused(() => user, 'reversal', { operationId }, reversal);
  }

  /** A conditional update changed nothing: say why. */
  private async explainRefusal(
    query: Querier,
    accountId: string,
    what: 'credit' | 'debit',
  ): Promise<never> {
    const status = await this.ledger.accountStatus(query, accountId);
    if (!status) throw notFound('Account');
    requirePermission(status, what);
    throw insufficientFunds();
  }
}
