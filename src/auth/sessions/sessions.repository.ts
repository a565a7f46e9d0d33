import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull, Raw } from 'typeorm';
import { preparedQuery } from '../../common/prepared';
import { ME_COLUMNS, meCte, MeRow } from '../session-sql';
import { Session } from './session.entity';

/** The per-request check: session $1 of user $2, live, and its user enabled (see meCte). */
export const SESSION_CHECK_SQL = `WITH ${meCte('$1', '$2')} SELECT ${ME_COLUMNS} FROM me`;

export interface NewSession {
  id: string;
  userId: string;
  /** Seconds until the session expires unless its refresh token is rotated. */
  ttl: number;
  refreshHash: Buffer;
  userAgent: string | null;
  ip: string;
}

/** A session whose refresh token did not rotate, as rotation needs it to say why. */
export interface SessionState {
  user_id: string;
  /** The user's name and role, for the audit log. */
  username: string;
  role: string;
  refresh_generation: number;
  /** Seconds left, 0 once expired. */
  expires_in: number;
  /** Not revoked, not expired, its user enabled. */
  live: boolean;
  /** Rotated within the reuse grace window. */
  in_grace: boolean;
}

/** What GET /auth/sessions shows of a session. */
export type SessionRow = Pick<Session, 'id' | 'createdAt' | 'lastUsedAt' | 'userAgent' | 'ip'>;

/**
 * The sessions' queries. A session row is the one truth about a login:
 * every request checks it, and the refresh token's rotation is one
 * conditional UPDATE of it, so concurrent refreshes cannot both rotate.
 * Every statement reads or stamps times with the database's clock (now()),
 * the one clock all instances share. The check, rotation and pruning are
 * SQL; revocation and the list go through TypeORM's QueryBuilder and
 * Repository, with now() as a raw value.
 */
@Injectable()
export class SessionsRepository {
  constructor(private readonly db: DataSource) {}

  async insert(s: NewSession): Promise<void> {
    await this.db.query(
      `INSERT INTO sessions (id, user_id, last_used_at, expires_at, refresh_generation, refresh_hash, user_agent, ip)
       VALUES ($1, $2, now(), now() + make_interval(secs => $3), 0, $4, $5, $6)`,
      [s.id, s.userId, s.ttl, s.refreshHash, s.userAgent, s.ip],
    );
  }

  /**
   * Rotates the session's refresh token from `currentHash` to `nextHash` if
   * it is the live one of a live session of an enabled user: the user id,
   * or undefined when nothing rotated. Of concurrent rotations of the same
   * token, the row lock lets exactly one match.
   */
  async rotate(
    sessionId: string,
    currentHash: Buffer,
    nextHash: Buffer,
    ttl: number,
  ): Promise<string | undefined> {
    const [rotated] = await this.db.query<[Array<{ user_id: string }>, number]>(
      `UPDATE sessions s
          SET refresh_generation = refresh_generation + 1, refresh_hash = $3,
              rotated_at = now(), last_used_at = now(), expires_at = now() + make_interval(secs => $4)
        WHERE s.id = $1 AND s.refresh_hash = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
          AND EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id AND NOT u.disabled)
        RETURNING s.user_id`,
      [sessionId, currentHash, nextHash, ttl],
    );
    return rotated[0]?.user_id;
  }

  /** The session's state, with `grace` seconds as the reuse window. */
  async state(sessionId: string, grace: number): Promise<SessionState | undefined> {
    const rows = await this.db.query<SessionState[]>(
      `SELECT s.user_id, u.username, u.role, s.refresh_generation,
              greatest(0, floor(extract(epoch FROM s.expires_at - now())))::int AS expires_in,
              (s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled) AS live,
              (s.rotated_at IS NOT NULL AND s.rotated_at > now() - make_interval(secs => $2)) AS in_grace
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1`,
      [sessionId, grace],
    );
    return rows[0];
  }

  /**
   * The per-request check (SESSION_CHECK_SQL), a prepared statement: the
   * `me` row, or undefined when the session has ended.
   */
  async check(sessionId: string, userId: string): Promise<MeRow | undefined> {
    const rows = await preparedQuery<MeRow>(this.db, 'session-check', SESSION_CHECK_SQL, [
      sessionId,
      userId,
    ]);
    return rows[0];
  }

  /** The user and expiry of the session whose live refresh token hashes to `hash`. */
  async findLiveRefresh(
    sessionId: string,
    hash: Buffer,
  ): Promise<{ user_id: string; expires_at: Date } | undefined> {
    const rows = await this.db.query<Array<{ user_id: string; expires_at: Date }>>(
      `SELECT s.user_id, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.refresh_hash = $2 AND s.revoked_at IS NULL
          AND s.expires_at > now() AND NOT u.disabled`,
      [sessionId, hash],
    );
    return rows[0];
  }

  async revoke(sessionId: string, reason: string): Promise<void> {
    await this.db
      .createQueryBuilder()
      .update(Session)
      .set({ revokedAt: () => 'now()', revokedReason: reason })
      .where('id = :sessionId AND revoked_at IS NULL', { sessionId })
      .execute();
  }

  /** Revokes every live session of a user but `except` (null: none), on `manager`'s connection. */
  async revokeAll(
    manager: EntityManager,
    userId: string,
    reason: string,
    except: string | null,
  ): Promise<void> {
    const update = manager
      .createQueryBuilder()
      .update(Session)
      .set({ revokedAt: () => 'now()', revokedReason: reason })
      .where('user_id = :userId AND revoked_at IS NULL', { userId });
    if (except !== null) update.andWhere('id <> :except', { except });
    await update.execute();
  }

  /** Revokes a live session of the user; false when the user has no such session. */
  async revokeOfUser(sessionId: string, userId: string, reason: string): Promise<boolean> {
    const result = await this.db
      .createQueryBuilder()
      .update(Session)
      .set({ revokedAt: () => 'now()', revokedReason: reason })
      .where('id = :sessionId AND user_id = :userId', { sessionId, userId })
      .andWhere('revoked_at IS NULL AND expires_at > now()')
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** The user's live sessions, most recently used first. */
  live(userId: string): Promise<SessionRow[]> {
    return this.db.getRepository(Session).find({
      select: { id: true, createdAt: true, lastUsedAt: true, userAgent: true, ip: true },
      where: { userId, revokedAt: IsNull(), expiresAt: Raw((at) => `${at} > now()`) },
      order: { lastUsedAt: 'DESC' },
    });
  }

  /** Deletes sessions ended (expired or revoked) more than a day ago; answers how many. */
  async deleteEnded(): Promise<number> {
    const [, count] = await this.db.query<[unknown, number]>(
      `DELETE FROM sessions WHERE expires_at < now() - interval '1 day'
          OR revoked_at < now() - interval '1 day'`,
    );
    return count;
  }
}
