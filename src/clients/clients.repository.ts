import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { cappedCountSql, COUNT_CAP } from '../common/pagination';
import { SqlParams } from '../common/sql';
import { Client } from './client.entity';

/** Escapes LIKE wildcards so a search for "O_B" means exactly that. */
const likePrefix = (text: string) => `${text.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;

export interface ClientRow {
  id: string;
  national_id: string;
  first_name: string;
  last_name: string;
  address: string | null;
  email: string | null;
  phone: string | null;
  created_at: Date;
}

/** Case-insensitive prefixes a client list is filtered by; q matches any of the three. */
export interface ClientSearch {
  nationalId?: string;
  lastName?: string;
  firstName?: string;
  q?: string;
}

/**
 * The clients: plain reads and writes through TypeORM's Repository, and
 * hand-written SQL where an index decides (the search pages) or a lock does
 * (removal).
 */
@Injectable()
export class ClientsRepository {
  constructor(
    @InjectRepository(Client) private readonly clients: Repository<Client>,
    private readonly db: DataSource,
  ) {}

  /** Inserts the client; a taken national id fails with the unique violation (23505). */
  insert(client: Omit<Client, 'id' | 'createdAt'>, em?: EntityManager): Promise<Client> {
    const repo = this.on(em);
    return repo.save(repo.create(client));
  }

  findById(id: string, em?: EntityManager): Promise<Client | null> {
    return this.on(em).findOneBy({ id });
  }

  save(client: Client, em?: EntityManager): Promise<Client> {
    return this.on(em).save(client);
  }

  /** The clients' Repository, on the transaction of `em` when given. */
  private on(em?: EntityManager): Repository<Client> {
    return em ? em.getRepository(Client) : this.clients;
  }

  /**
   * A page of clients by name (last, first, id), each filter a prefix on its
   * own lower() index, from the client `after` on (exclusive; null: from the
   * start); `limit` rows at most, and the total counted up to COUNT_CAP (one
   * more: "more").
   */
  async page(
    search: ClientSearch,
    after: string | null,
    offset: number,
    limit: number,
  ): Promise<{ rows: ClientRow[]; total: string }> {
    const p = new SqlParams();
    const where: string[] = [];
    if (search.nationalId)
      where.push(`lower(c.national_id) LIKE ${p.add(likePrefix(search.nationalId))}`);
    if (search.lastName)
      where.push(`lower(c.last_name) LIKE ${p.add(likePrefix(search.lastName))}`);
    if (search.firstName)
      where.push(`lower(c.first_name) LIKE ${p.add(likePrefix(search.firstName))}`);
    if (search.q) {
      const q = p.add(likePrefix(search.q));
      where.push(
        `(lower(c.national_id) LIKE ${q} OR lower(c.last_name) LIKE ${q} OR lower(c.first_name) LIKE ${q})`,
      );
    }
    const filtered = where.length > 0 ? where.join(' AND ') : 'true';
    const count = new SqlParams(p.values);
    // After the cursor's client; from the start, no bound at all (the scan would start from it).
    let bound = '';
    if (after) {
      const id = p.add(after, 'uuid');
      bound = ` AND (c.last_name, c.first_name, c.id) > (
        (SELECT last_name FROM clients WHERE id = ${id}), (SELECT first_name FROM clients WHERE id = ${id}), ${id})`;
    }
    const [rows, [{ total }]] = await Promise.all([
      this.db.query<ClientRow[]>(
        `SELECT c.* FROM clients c
          WHERE ${filtered}${bound}
          ORDER BY c.last_name, c.first_name, c.id LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`,
        p.values,
      ),
      this.db.query<Array<{ total: string }>>(
        cappedCountSql(`SELECT 1 FROM clients c WHERE ${filtered}`, count.add(COUNT_CAP + 1)),
        count.values,
      ),
    ]);
    return { rows, total };
  }

  /**
   * Locks the client until the transaction ends (an account being opened
   * for it holds a KEY SHARE lock that this waits for, and the reverse) and
   * says whether it holds accounts or has a login. Undefined: no such client.
   */
  async lockForRemoval(
    em: EntityManager,
    id: string,
  ): Promise<{ holds: boolean; logins: boolean } | undefined> {
    const rows = await em.query<Array<{ holds: boolean; logins: boolean }>>(
      `SELECT EXISTS (SELECT 1 FROM account_holders h WHERE h.client_id = c.id) AS holds,
              EXISTS (SELECT 1 FROM users u WHERE u.client_id = c.id) AS logins
         FROM clients c WHERE c.id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0];
  }

  async delete(em: EntityManager, id: string): Promise<void> {
    await em.query(`DELETE FROM clients WHERE id = $1`, [id]);
  }
}
