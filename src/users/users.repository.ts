import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { Client } from '../clients/client.entity';
import { cappedCountSql, COUNT_CAP } from '../common/pagination';
import { Role } from '../identity/role';
import { User } from '../identity/user.entity';

/**
 * The users: TypeORM's Repository for the plain reads and writes, and SQL
 * where the first admin must be created once by one of several instances,
 * or where the last active admin must survive two admins stepping down at
 * once.
 */
@Injectable()
export class UsersRepository {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly db: DataSource,
  ) {}

  async isEmpty(): Promise<boolean> {
    return (await this.users.count({ take: 1 })) === 0;
  }

  /**
   * Creates user "admin" with the password hash if there is no user at all;
   * false when there already was one. Of several instances starting at once
   * on an empty database, one inserts and the others insert nothing (a second
   * insert waits for the first's transaction on the unique username).
   */
  async insertFirstAdmin(
    passwordHash: string,
    em: EntityManager = this.db.manager,
  ): Promise<boolean> {
    const inserted: unknown[] = await em.query(
      `INSERT INTO users (username, password_hash, role)
       SELECT 'admin', $1, 'admin' WHERE NOT EXISTS (SELECT 1 FROM users)
       ON CONFLICT DO NOTHING RETURNING id`,
      [passwordHash],
    );
    return inserted.length > 0;
  }

  /** Inserts the user in `em`'s transaction; a taken username fails with the unique violation (23505). */
  insert(
    user: Pick<User, 'username' | 'passwordHash' | 'role' | 'clientId'>,
    em: EntityManager = this.db.manager,
  ): Promise<User> {
    const users = em.getRepository(User);
    return users.save(users.create(user));
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  /** The user, locked until `em`'s transaction ends. */
  lock(em: EntityManager, id: string): Promise<User | null> {
    return em.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  save(em: EntityManager, user: User): Promise<User> {
    return em.save(user);
  }

  clientExists(em: EntityManager, clientId: string): Promise<boolean> {
    return em.getRepository(Client).existsBy({ id: clientId });
  }

  /**
   * A page of users, oldest first, through the (created_at, id) index from
   * the user `after` on (exclusive; null: from the start); `limit` rows at
   * most, and the total counted up to COUNT_CAP (one more: "more").
   */
  async page(
    role: Role | null,
    after: string | null,
    offset: number,
    limit: number,
  ): Promise<{ rows: User[]; total: string }> {
    const page = this.users
      .createQueryBuilder('u')
      .orderBy('u.created_at', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .offset(offset)
      .limit(limit);
    if (after) {
      page.andWhere(
        `(u.created_at, u.id) > ((SELECT created_at FROM users WHERE id = :after), :after)`,
        { after },
      );
    }
    if (role) page.andWhere('u.role = :role', { role });
    const [rows, [{ total }]] = await Promise.all([
      page.getMany(),
      this.db.query<Array<{ total: string }>>(
        cappedCountSql(`SELECT 1 FROM users WHERE $1::varchar IS NULL OR role = $1::varchar`, '$2'),
        [role, COUNT_CAP + 1],
      ),
    ]);
    return { rows, total };
  }

  /**
   * Whether an active admin other than `exceptId` exists, under a
   * transaction-scoped advisory lock: two admins stepping down at once take
   * turns, so they cannot both see the other still in place.
   */
  async anotherActiveAdmin(em: EntityManager, exceptId: string): Promise<boolean> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext('users:active-admins'))`);
    const rows: unknown[] = await em.query(
      `SELECT 1 FROM users WHERE role = 'admin' AND NOT disabled AND id <> $1 LIMIT 1`,
      [exceptId],
    );
    return rows.length > 0;
  }
}
