import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuthUser } from '../auth/auth.decorators';
import { formatMoney } from '../common/money';
import {
  cappedCountSql,
  COUNT_CAP,
  CursorScope,
  cursorScope,
  Page,
  PageQuery,
  pageStart,
  toPage,
  UUID_KEY,
} from '../common/pagination';
import { SqlParams } from '../common/sql';
import { ApiError, notFound, validationFailed } from '../common/problem';
import { visibilityParam } from '../auth/visibility';
import { AppConfig } from '../config/app-config';
import { ClientsService } from '../clients/clients.service';
import { preparedQuery } from '../common/prepared';
import { Caller, ME_COLUMNS, ME_CTE, MeRow, visibleToMe } from '../auth/caller';
import { accountNumber } from './account-number';
import { AccountStatus } from './account.entity';
import {
  AccountDto,
  HolderDto,
  ListAccountsQuery,
  OpenAccountDto,
  UpdateAccountDto,
} from './dto/accounts.dto';

/** The account's columns and its holders, in one query. */
const ACCOUNT_COLUMNS = `a.*, coalesce((
  SELECT json_agg(json_build_object('id', c.id, 'firstName', c.first_name, 'lastName', c.last_name)
                  ORDER BY h.added_at, c.id)
    FROM account_holders h JOIN clients c ON c.id = h.client_id WHERE h.account_id = a.id), '[]') AS holders`;

/**
 * GET /accounts/:id in one statement: the caller's session ($1, $2, see
 * ME_CTE), then account $3 with its holders if the caller may see it.
 */
export const GET_ACCOUNT_SQL = `WITH ${ME_CTE}
       SELECT ${ME_COLUMNS}, acct.* FROM me LEFT JOIN LATERAL (
         SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $3 AND ${visibleToMe('a')}) acct ON true`;

export interface AccountRow {
  id: string;
  number: string;
  currency: string;
  balance: string;
  overdraft_limit: string;
  status: AccountStatus;
  opened_at: Date;
  closed_at: Date | null;
  holders: HolderDto[];
}

/** Shared with the ledger: a frozen or closed account refuses the change. */
export const notActive = (status: string) =>
  new ApiError('ACCOUNT_NOT_ACTIVE', `The account is ${status}`);

@Injectable()
export class AccountsService {
  constructor(
    private readonly db: DataSource,
    private readonly clients: ClientsService,
    private readonly config: AppConfig,
  ) {}

  async open(dto: OpenAccountDto): Promise<AccountDto> {
    const id = await this.db.transaction(async (em) => {
      // KEY SHARE keeps the clients from being deleted until the account exists.
      const found = await em.query<Array<{ id: string }>>(
        `SELECT id FROM clients WHERE id = ANY($1::uuid[]) FOR KEY SHARE`,
        [dto.holderIds],
      );
      const missing = dto.holderIds.filter((h) => !found.some((f) => f.id === h));
      if (missing.length > 0) {
        throw validationFailed(
          missing.map((m) => ({ field: 'holderIds', message: `no client has the id ${m}` })),
        );
      }
      const [{ serial }] = await em.query<Array<{ serial: string }>>(
        `SELECT nextval('account_number_seq') AS serial`,
      );
      const [account] = await em.query<Array<{ id: string }>>(
        `INSERT INTO accounts (number, currency, overdraft_limit) VALUES ($1, $2, $3) RETURNING id`,
        [
          accountNumber(serial),
          dto.currency ?? this.config.defaultCurrency,
          (dto.overdraftLimit ?? 0n).toString(),
        ],
      );
      await em.query(
        `INSERT INTO account_holders (account_id, client_id) SELECT $1, unnest($2::uuid[])`,
        [account.id, dto.holderIds],
      );
      return account.id;
    });
    return this.view(id);
  }

  /** Staff see every account; a customer the accounts its client holds. Oldest first. */
  async list(user: AuthUser, query: ListAccountsQuery): Promise<Page<AccountDto>> {
    return this.page(
      query,
      { holders: [visibilityParam(user), query.holderId ?? null], status: query.status ?? null },
      cursorScope('accounts', visibilityParam(user), query.holderId, query.status),
    );
  }

  /** The accounts a client holds; the client must be visible to the caller. */
  async listForClient(
    user: AuthUser,
    clientId: string,
    query: PageQuery,
  ): Promise<Page<AccountDto>> {
    await this.clients.findVisible(user, clientId);
    return this.page(
      query,
      { holders: [clientId], status: null },
      cursorScope('client-accounts', clientId),
    );
  }

  /** GET /accounts/:id in one statement: the caller's session, then the account if visible to it. */
  async getFor(caller: Caller, id: string): Promise<AccountDto> {
    const rows = await preparedQuery<MeRow & AccountRow>(
      this.db,
      'account-get-me',
      GET_ACCOUNT_SQL,
      [...caller.params, id],
    );
    caller.settle(rows[0]);
    if (!rows[0].id) throw notFound('Account');
    return toAccountDto(rows[0]);
  }

  async update(id: string, dto: UpdateAccountDto): Promise<AccountDto> {
    await this.db.transaction(async (em) => {
      const account = await this.lock(em, id);
      if (account.status === AccountStatus.Closed) throw notActive('closed');
      const limit = dto.overdraftLimit ?? BigInt(account.overdraft_limit);
      if (BigInt(account.balance) < -limit) {
        throw new ApiError(
          'CONFLICT',
          `The balance ${formatMoney(BigInt(account.balance))} is below the new overdraft limit`,
        );
      }
      await em.query(`UPDATE accounts SET status = $2, overdraft_limit = $3 WHERE id = $1`, [
        id,
        dto.status ?? account.status,
        limit.toString(),
      ]);
    });
    return this.view(id);
  }

  async addHolder(id: string, clientId: string): Promise<AccountDto> {
    await this.db.transaction(async (em) => {
      const account = await this.lock(em, id);
      if (account.status === AccountStatus.Closed) throw notActive('closed');
      const client = await em.query<unknown[]>(
        `SELECT 1 FROM clients WHERE id = $1 FOR KEY SHARE`,
        [clientId],
      );
      if (client.length === 0) {
        throw validationFailed([
          { field: 'clientId', message: `no client has the id ${clientId}` },
        ]);
      }
      const inserted = await em.query<unknown[]>(
        `INSERT INTO account_holders (account_id, client_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING RETURNING client_id`,
        [id, clientId],
      );
      if (inserted.length === 0)
        throw new ApiError('CONFLICT', 'The client already holds this account');
    });
    return this.view(id);
  }

  async removeHolder(id: string, clientId: string): Promise<void> {
    await this.db.transaction(async (em) => {
      await this.lock(em, id);
      const holders = await em.query<Array<{ client_id: string }>>(
        `SELECT client_id FROM account_holders WHERE account_id = $1`,
        [id],
      );
      if (!holders.some((h) => h.client_id === clientId)) throw notFound('Holder');
      if (holders.length === 1) {
        throw new ApiError('LAST_HOLDER', 'An account keeps at least one holder');
      }
      await em.query(`DELETE FROM account_holders WHERE account_id = $1 AND client_id = $2`, [
        id,
        clientId,
      ]);
    });
  }

  async close(id: string): Promise<AccountDto> {
    await this.db.transaction(async (em) => {
      const account = await this.lock(em, id);
      if (account.status === AccountStatus.Closed) throw notActive('closed');
      if (BigInt(account.balance) !== 0n) {
        throw new ApiError(
          'BALANCE_NOT_ZERO',
          `The balance is ${formatMoney(BigInt(account.balance))}; it must be 0.00 to close`,
        );
      }
      await em.query(`UPDATE accounts SET status = 'closed', closed_at = now() WHERE id = $1`, [
        id,
      ]);
    });
    return this.view(id);
  }

  /** An account as its holders and staff see it. */
  async view(id: string): Promise<AccountDto> {
    const rows = await this.db.query<AccountRow[]>(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1`,
      [id],
    );
    if (rows.length === 0) throw notFound('Account');
    return toAccountDto(rows[0]);
  }

  /**
   * Locks the account, then reads it as it is: a locking statement's own
   * values may predate a movement it waited for.
   */
  private async lock(em: EntityManager, id: string): Promise<Omit<AccountRow, 'holders'>> {
    await em.query(`SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, [id]);
    const rows = await em.query<Array<Omit<AccountRow, 'holders'>>>(
      `SELECT * FROM accounts WHERE id = $1`,
      [id],
    );
    if (rows.length === 0) throw notFound('Account');
    return rows[0];
  }

  /**
   * A page of accounts in (opened_at, id) order, read through that index from
   * the cursor's account on; accounts held by given clients are found
   * through account_holders first. The total is counted up to COUNT_CAP.
   */
  private async page(
    query: PageQuery,
    filters: { holders: Array<string | null>; status: AccountStatus | null },
    scope: CursorScope,
  ): Promise<Page<AccountDto>> {
    const start = pageStart(query, scope, UUID_KEY);
    const p = new SqlParams();
    const where = filters.holders
      .filter((h) => h !== null)
      .map(
        (h) =>
          `EXISTS (SELECT 1 FROM account_holders h WHERE h.account_id = a.id AND h.client_id = ${p.add(h, 'uuid')})`,
      );
    if (filters.status) where.push(`a.status = ${p.add(filters.status)}`);
    const filtered = where.length > 0 ? where.join(' AND ') : 'true';
    const count = new SqlParams(p.values);
    // After the cursor's account; from the start, no bound at all (the scan would start from it).
    let after = '';
    if (start.after) {
      const id = p.add(start.after, 'uuid');
      after = ` AND (a.opened_at, a.id) > ((SELECT opened_at FROM accounts WHERE id = ${id}), ${id})`;
    }
    const [rows, [{ total }]] = await Promise.all([
      this.db.query<AccountRow[]>(
        `SELECT ${ACCOUNT_COLUMNS} FROM accounts a
          WHERE ${filtered}${after}
          ORDER BY a.opened_at, a.id LIMIT ${p.add(query.limit + 1)} OFFSET ${p.add(start.offset)}`,
        p.values,
      ),
      this.db.query<Array<{ total: string }>>(
        cappedCountSql(`SELECT 1 FROM accounts a WHERE ${filtered}`, count.add(COUNT_CAP + 1)),
        count.values,
      ),
    ]);
    return toPage(rows, query, scope, total, (r) => r.id, toAccountDto);
  }
}

export function toAccountDto(r: AccountRow): AccountDto {
  return {
    id: r.id,
    number: r.number,
    currency: r.currency,
    balance: formatMoney(BigInt(r.balance)),
    overdraftLimit: formatMoney(BigInt(r.overdraft_limit)),
    status: r.status,
    holders: r.holders,
    openedAt: r.opened_at,
    closedAt: r.closed_at,
  };
}
