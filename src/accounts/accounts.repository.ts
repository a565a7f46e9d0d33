import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ME_COLUMNS, meCte, MeRow, visibleToMe } from '../auth';
import { cappedCountSql, COUNT_CAP } from '../common/pagination';
import { preparedQuery } from '../common/prepared';
import { SqlParams } from '../common/sql';
import { AccountStatus } from './account-status';
import { Account, AccountHolder } from './account.entity';
import { HolderDto } from './dto/accounts.dto';

/** The account's columns and its holders, in one query. */
const ACCOUNT_COLUMNS = `a.*, coalesce((
  SELECT json_agg(json_build_object('id', c.id, 'firstName', c.first_name, 'lastName', c.last_name)
                  ORDER BY h.added_at, c.id)
    FROM account_holders h JOIN clients c ON c.id = h.client_id WHERE h.account_id = a.id), '[]') AS holders`;

/**
 * GET /accounts/:id in one statement: the caller's session ($1, $2, see
 * meCte), then account $3 with its holders if the caller may see it.
 */
export const GET_ACCOUNT_SQL = `WITH ${meCte('$1', '$2')}
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

/** A new account's row. */
export interface NewAccount {
  number: string;
  currency: string;
  overdraftLimit: bigint;
}

/** What a page of accounts is filtered by: held by every one of `holders`, in `status`. */
export interface AccountFilters {
  holders: string[];
  status: AccountStatus | null;
}

/**
 * The accounts' queries. Every change to an account runs in a transaction
 * that first locks it (lock): changes to one account are serial, and none
 * can overtake a money movement, which locks it too. Plain changes (status,
 * limit, close, holders) go through TypeORM's Repository and QueryBuilder
 * on that transaction's EntityManager; SQL stays for the one-statement read
 * with the caller's session, the lock, the bulk insert of holders, and the
 * pages, whose plans it fixes.
 */
@Injectable()
export class AccountsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * GET /accounts/:id in one statement: the caller's session (`me`), and
   * the account with its holders if the caller may see it.
   */
  async getForSession(
    session: [string, string],
    id: string,
  ): Promise<(MeRow & Partial<AccountRow>) | undefined> {
    const rows = await preparedQuery<MeRow & AccountRow>(
      this.db,
      'account-get-me',
      GET_ACCOUNT_SQL,
      [...session, id],
    );
    return rows[0];
  }

  /** An account with its holders. */
  async find(id: string): Promise<AccountRow | undefined> {
    const rows = await this.db.query<AccountRow[]>(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1`,
      [id],
    );
    return rows[0];
  }

  /**
   * Which of the clients exist, each kept from being deleted (KEY SHARE)
   * until the transaction ends.
   */
  async keepClients(em: EntityManager, ids: string[]): Promise<string[]> {
    const found = await em.query<Array<{ id: string }>>(
      `SELECT id FROM clients WHERE id = ANY($1::uuid[]) FOR KEY SHARE`,
      [ids],
    );
    return found.map((f) => f.id);
  }

  /** The next account serial (see account-number.ts). */
  async nextSerial(em: EntityManager): Promise<string> {
    const [{ serial }] = await em.query<Array<{ serial: string }>>(
      `SELECT nextval('account_number_seq') AS serial`,
    );
    return serial;
  }

  /** Inserts an account at balance 0 held by `holderIds`; answers its id. */
  async insert(em: EntityManager, account: NewAccount, holderIds: string[]): Promise<string> {
    const [{ id }] = await em.query<Array<{ id: string }>>(
      `INSERT INTO accounts (number, currency, overdraft_limit) VALUES ($1, $2, $3) RETURNING id`,
      [account.number, account.currency, account.overdraftLimit.toString()],
    );
    // Holders keep the order they were given in: one statement stamps them all at now(), so
    // each is a microsecond after the one before it, and lists order holders by added_at.
    await em.query(
      `INSERT INTO account_holders (account_id, client_id, added_at)
       SELECT $1, h.id, now() + (h.ord - 1) * interval '1 microsecond'
         FROM unnest($2::uuid[]) WITH ORDINALITY AS h(id, ord)`,
      [id, holderIds],
    );
    return id;
  }

  /**
   * Locks the account, then reads it as it is: a locking statement's own
   * values may predate a movement it waited for.
   */
  async lock(em: EntityManager, id: string): Promise<Omit<AccountRow, 'holders'> | undefined> {
    await em.query(`SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, [id]);
    const rows = await em.query<Array<Omit<AccountRow, 'holders'>>>(
      `SELECT * FROM accounts WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async setStatusAndLimit(
    em: EntityManager,
    id: string,
    status: AccountStatus,
    overdraftLimit: bigint,
  ): Promise<void> {
    await em
      .getRepository(Account)
      .update({ id }, { status, overdraftLimit: overdraftLimit.toString() });
  }

  /** Closed now, by the database's clock. */
  async close(em: EntityManager, id: string): Promise<void> {
    await em
      .getRepository(Account)
      .update({ id }, { status: AccountStatus.Closed, closedAt: () => 'now()' });
  }

  /** The account's holders (client ids), in no order. */
  async holderIds(em: EntityManager, id: string): Promise<string[]> {
    const rows = await em
      .getRepository(AccountHolder)
      .find({ select: { clientId: true }, where: { accountId: id } });
    return rows.map((r) => r.clientId);
  }

  /** Adds a holder; false when the client already holds the account. */
  async addHolder(em: EntityManager, id: string, clientId: string): Promise<boolean> {
    const result = await em
      .createQueryBuilder()
      .insert()
      .into(AccountHolder)
      .values({ accountId: id, clientId })
      .orIgnore()
      .returning(['clientId'])
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  async removeHolder(em: EntityManager, id: string, clientId: string): Promise<void> {
    await em.getRepository(AccountHolder).delete({ accountId: id, clientId });
  }

  /**
   * A page of accounts in (opened_at, id) order, read through that index from
   * the account `after` on (exclusive; null: from the start); accounts held
   * by given clients are found through account_holders first. `limit` rows
   * at most, and the total counted up to COUNT_CAP (one more: "more").
   */
  async page(
    filters: AccountFilters,
    after: string | null,
    offset: number,
    limit: number,
  ): Promise<{ rows: AccountRow[]; total: string }> {
    const p = new SqlParams();
    const holders = filters.holders.map((h) => p.add(h, 'uuid'));
    const held = (alias: string) =>
      holders.map(
        (h) =>
          `EXISTS (SELECT 1 FROM account_holders h WHERE h.account_id = ${alias}.id AND h.client_id = ${h})`,
      );
    const where = held('a');
    if (filters.status) where.push(`a.status = ${p.add(filters.status)}`);
    const filtered = where.length > 0 ? where.join(' AND ') : 'true';
    const count = new SqlParams(p.values);
    // After the cursor's account; from the start, no bound at all (the scan would start from it).
    // The cursor's account is looked up among the list's holders' accounts only (not by status,
    // which may change between pages), so no cursor reads an account outside its list.
    let bound = '';
    if (after) {
      const id = p.add(after, 'uuid');
      const scope = held('c').map((h) => ` AND ${h}`);
      bound = ` AND (a.opened_at, a.id) > ((SELECT c.opened_at FROM accounts c WHERE c.id = ${id}${scope.join('')}), ${id})`;
    }
    const [rows, [{ total }]] = await Promise.all([
      this.db.query<AccountRow[]>(
        `SELECT ${ACCOUNT_COLUMNS} FROM accounts a
          WHERE ${filtered}${bound}
          ORDER BY a.opened_at, a.id LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`,
        p.values,
      ),
      this.db.query<Array<{ total: string }>>(
        cappedCountSql(`SELECT 1 FROM accounts a WHERE ${filtered}`, count.add(COUNT_CAP + 1)),
        count.values,
      ),
    ]);
    return { rows, total };
  }
}
