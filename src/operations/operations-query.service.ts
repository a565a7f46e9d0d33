import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import { AuthUser } from '../common/auth.decorators';
import { formatMoney } from '../common/money';
import { Page } from '../common/pagination';
import { notFound, validationFailed } from '../common/problem';
import { accountVisibleSql, visibilityParam } from '../common/visibility';
import {
  ListOperationsQuery,
  OperationDto,
  OperationFilters,
  parseDayOrInstant,
  StatementDto,
  StatementQuery,
} from './dto/operations.dto';
import { preparedQuery } from '../common/prepared';
import { Caller, ME_COLUMNS, ME_CTE, MeRow, visibleToMe } from '../auth/caller';
import { OPERATION_COLUMNS, OperationRow, toOperationDto } from './operation-view';

@Injectable()
export class OperationsQueryService {
  constructor(
    private readonly db: DataSource,
    private readonly accounts: AccountsService,
  ) {}

  /**
   * An account's operations, newest first, in one statement: the caller's
   * session, the account's visibility to it, the page and the total.
   */
  async listForAccount(
    caller: Caller,
    accountId: string,
    filters: OperationFilters,
  ): Promise<Page<OperationDto>> {
    const where = `o.account_id = acct.id AND ${filtersSql(4)}`;
    const rows = await preparedQuery<
      MeRow & Partial<OperationRow> & { visible: string | null; total: number }
    >(
      this.db,
      'account-operations-me',
      `WITH ${ME_CTE},
         acct AS (SELECT a.id FROM accounts a, me WHERE a.id = $3 AND ${visibleToMe('a')})
       SELECT ${ME_COLUMNS}, acct.id AS visible,
              (SELECT count(*)::int FROM operations o WHERE ${where}) AS total, page.*
         FROM me LEFT JOIN acct ON true LEFT JOIN LATERAL (
           SELECT ${OPERATION_COLUMNS} FROM operations o WHERE ${where}
            ORDER BY o.seq DESC LIMIT $8 OFFSET $9) page ON true`,
      [
        ...caller.params,
        accountId,
        ...filterValues(filters),
        filters.limit,
        (filters.page - 1) * filters.limit,
      ],
    );
    caller.settle(rows[0]);
    if (!rows[0].visible) throw notFound('Account');
    return {
      items: rows.filter((r) => r.id).map((r) => toOperationDto(r as OperationRow)),
      page: filters.page,
      limit: filters.limit,
      total: rows[0].total,
    };
  }

  async list(query: ListOperationsQuery): Promise<Page<OperationDto>> {
    const where = `($1::uuid IS NULL OR o.account_id = $1::uuid) AND ${filtersSql(2)}`;
    const params = [query.accountId ?? null, ...filterValues(query)];
    const [rows, [{ total }]] = await Promise.all([
      preparedQuery<OperationRow>(
        this.db,
        'operations-page',
        `SELECT ${OPERATION_COLUMNS} FROM operations o WHERE ${where} ORDER BY o.seq DESC LIMIT $6 OFFSET $7`,
        [...params, query.limit, (query.page - 1) * query.limit],
      ),
      preparedQuery<{ total: number }>(
        this.db,
        'operations-count',
        `SELECT count(*)::int AS total FROM operations o WHERE ${where}`,
        params,
      ),
    ]);
    return { items: rows.map(toOperationDto), page: query.page, limit: query.limit, total };
  }

  /** Staff, or a holder of the operation's account. */
  async get(user: AuthUser, id: string): Promise<OperationDto> {
    const rows = await this.db.query<OperationRow[]>(
      `SELECT ${OPERATION_COLUMNS} FROM operations o JOIN accounts a ON a.id = o.account_id
        WHERE o.id = $2 AND ${accountVisibleSql('a', '$1')}`,
      [visibilityParam(user), id],
    );
    if (rows.length === 0) throw notFound('Operation');
    return toOperationDto(rows[0]);
  }

  /** Opening and closing balance, totals, and the operations oldest first, for whole UTC days. */
  async statement(caller: Caller, accountId: string, query: StatementQuery): Promise<StatementDto> {
    const account = await this.accounts.getFor(caller, accountId);
    const from = query.from ?? new Date(account.openedAt).toISOString().slice(0, 10);
    const to = query.to ?? new Date().toISOString().slice(0, 10);
    if (from > to) throw rangeError();
    const start = parseDayOrInstant(from)!.start;
    const end = parseDayOrInstant(to)!.endExclusive;
    const [opening] = await this.db.query<Array<{ balance_after: string }>>(
      `SELECT balance_after FROM operations WHERE account_id = $1 AND created_at < $2 ORDER BY seq DESC LIMIT 1`,
      [accountId, start],
    );
    const rows = await this.db.query<OperationRow[]>(
      `SELECT ${OPERATION_COLUMNS} FROM operations o
        WHERE o.account_id = $1 AND o.created_at >= $2 AND o.created_at < $3 ORDER BY o.seq`,
      [accountId, start, end],
    );
    const openingBalance = BigInt(opening?.balance_after ?? 0);
    let credits = 0n;
    let debits = 0n;
    for (const r of rows) {
      if (r.type === 'credit') credits += BigInt(r.amount);
      else debits += BigInt(r.amount);
    }
    const closing = rows.length > 0 ? BigInt(rows[rows.length - 1].balance_after) : openingBalance;
    return {
      account,
      from,
      to,
      openingBalance: formatMoney(openingBalance),
      closingBalance: formatMoney(closing),
      totalCredits: formatMoney(credits),
      totalDebits: formatMoney(debits),
      operations: rows.map(toOperationDto),
    };
  }
}

/** SQL: the type, kind, from and to filters, bound to the four parameters from $first on. */
function filtersSql(first: number): string {
  const [type, kind, from, to] = [0, 1, 2, 3].map((i) => `$${first + i}`);
  return `(${type}::varchar IS NULL OR o.type = ${type}::varchar)
      AND (${kind}::varchar IS NULL OR o.kind = ${kind}::varchar)
      AND (${from}::timestamptz IS NULL OR o.created_at >= ${from}::timestamptz)
      AND (${to}::timestamptz IS NULL OR o.created_at < ${to}::timestamptz)`;
}

/** The values filtersSql expects, in its order; 400 when the date range is empty. */
function filterValues(filters: OperationFilters): unknown[] {
  const { from, to } = range(filters);
  return [filters.type ?? null, filters.kind ?? null, from, to];
}

/** The filters' from (inclusive) and to (exclusive) instants; 400 when the range is empty. */
function range(filters: OperationFilters): { from: Date | null; to: Date | null } {
  const from = filters.from ? parseDayOrInstant(filters.from)!.start : null;
  const to = filters.to ? parseDayOrInstant(filters.to)!.endExclusive : null;
  if (from && to && from >= to) throw rangeError();
  return { from, to };
}

const rangeError = () =>
  validationFailed(
    [{ field: 'from', message: 'from must not be after to' }],
    'The date range is empty',
  );

/** RFC 4180 cell; a leading = + - @ in text is neutralised so spreadsheets do not run it. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function statementCsv(statement: StatementDto): string {
  const lines = ['date,id,kind,type,description,amount,balanceAfter'];
  for (const op of statement.operations) {
    const amount = op.type === 'debit' ? `-${op.amount}` : op.amount;
    lines.push(
      [
        new Date(op.createdAt).toISOString(),
        op.id,
        op.kind,
        op.type,
        csvCell(op.description ?? ''),
        amount,
        op.balanceAfter,
      ].join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
