import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuthUser } from './auth.decorators';
import { ApiError, notFound } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { TokensService } from './tokens.service';
import { preparedQuery } from '../common/prepared';
import { Caller, ME_COLUMNS, ME_CTE, MeRow, userFromMe } from './caller';

export interface IssuedRefresh {
  userId: string;
  sessionId: string;
  refreshToken: string;
  /** Seconds the refresh token lives from now: the configured lifetime when it is new. */
  expiresIn: number;
}

export interface SessionView {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

/** The per-request check: session $1 of user $2, live, and its user enabled (see ME_CTE). */
export const SESSION_CHECK_SQL = `WITH ${ME_CTE} SELECT ${ME_COLUMNS} FROM me`;

const invalidRefresh = () => new ApiError('TOKEN_INVALID', 'The refresh token is not valid');

/**
 * Sessions live in the database, so logout, disabling a user and a role
 * change take effect at the next request on every instance.
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly db: DataSource,
    private readonly tokens: TokensService,
    private readonly config: AppConfig,
  ) {}

  async create(userId: string, userAgent: string | undefined, ip: string): Promise<IssuedRefresh> {
    const sessionId = randomUUID();
    const refreshToken = this.tokens.refreshToken(sessionId, 0);
    await this.db.query(
      `INSERT INTO sessions (id, user_id, last_used_at, expires_at, refresh_generation, refresh_hash, user_agent, ip)
       VALUES ($1, $2, now(), now() + make_interval(secs => $3), 0, $4, $5, $6)`,
      [
        sessionId,
        userId,
        this.config.jwt.refreshTtl,
        this.tokens.hashRefresh(refreshToken),
        userAgent?.slice(0, 512) ?? null,
        ip,
      ],
    );
    return { userId, sessionId, refreshToken, expiresIn: this.config.jwt.refreshTtl };
  }

  /**
   * Consumes a refresh token and returns its successor. The conditional
   * update makes rotation atomic: of many parallel refreshes one rotates, the
   * others find the token just rotated and, inside the grace window, get the
   * same successor. Any other replay of a consumed token revokes the session.
   */
  async rotate(token: string): Promise<IssuedRefresh> {
    const parts = this.tokens.parseRefresh(token);
    if (!parts) throw invalidRefresh();
    const { sessionId, generation } = parts;
    const successor = this.tokens.refreshToken(sessionId, generation + 1);
    const [rotated] = await this.db.query<[Array<{ user_id: string }>, number]>(
      `UPDATE sessions s
          SET refresh_generation = refresh_generation + 1, refresh_hash = $3,
              rotated_at = now(), last_used_at = now(), expires_at = now() + make_interval(secs => $4)
        WHERE s.id = $1 AND s.refresh_hash = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
          AND EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id AND NOT u.disabled)
        RETURNING s.user_id`,
      [
        sessionId,
        this.tokens.hashRefresh(token),
        this.tokens.hashRefresh(successor),
        this.config.jwt.refreshTtl,
      ],
    );
    if (rotated.length === 1) {
      return {
        userId: rotated[0].user_id,
        sessionId,
        refreshToken: successor,
        expiresIn: this.config.jwt.refreshTtl,
      };
    }

    const rows: Array<{
      user_id: string;
      refresh_generation: number;
      expires_in: number;
      live: boolean;
      in_grace: boolean;
    }> = await this.db.query(
      `SELECT s.user_id, s.refresh_generation,
              greatest(0, floor(extract(epoch FROM s.expires_at - now())))::int AS expires_in,
              (s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled) AS live,
              (s.rotated_at IS NOT NULL AND s.rotated_at > now() - make_interval(secs => $2)) AS in_grace
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1`,
      [sessionId, this.config.jwt.refreshReuseGrace],
    );
    const session = rows[0];
    if (!session || !session.live) throw invalidRefresh();
    if (session.refresh_generation === generation + 1 && session.in_grace) {
      // The successor handed out again lives what is left of it.
      return {
        userId: session.user_id,
        sessionId,
        refreshToken: successor,
        expiresIn: session.expires_in,
      };
    }
    if (generation < session.refresh_generation) {
      await this.revoke(sessionId, 'refresh_reuse');
      throw new ApiError(
        'REFRESH_TOKEN_REUSED',
        'This refresh token was already used; the session has been revoked',
      );
    }
    throw invalidRefresh();
  }

  /**
   * The per-request check: the session is live and its user enabled, with the
   * user's current role. Touches last_used_at at most once a minute.
   */
  async authenticate(sessionId: string, userId: string): Promise<AuthUser | null> {
    const rows = await preparedQuery<MeRow>(this.db, 'session-check', SESSION_CHECK_SQL, [
      sessionId,
      userId,
    ]);
    return userFromMe(rows[0], sessionId);
  }

  /** Checks the session of a @SessionInQuery() caller on its own, for paths that need the user first. */
  async resolve(caller: Caller): Promise<AuthUser> {
    if (caller.user) return caller.user;
    return caller.accept(await this.authenticate(caller.sessionId, caller.userId));
  }

  /** The user and expiry of a refresh token that is the live one of an active session. */
  async findLiveRefresh(token: string): Promise<{ userId: string; expiresAt: Date } | null> {
    const parts = this.tokens.parseRefresh(token);
    if (!parts) return null;
    const rows: Array<{ user_id: string; expires_at: Date }> = await this.db.query(
      `SELECT s.user_id, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.refresh_hash = $2 AND s.revoked_at IS NULL
          AND s.expires_at > now() AND NOT u.disabled`,
      [parts.sessionId, this.tokens.hashRefresh(token)],
    );
    return rows[0] ? { userId: rows[0].user_id, expiresAt: rows[0].expires_at } : null;
  }

  async revoke(sessionId: string, reason: string): Promise<void> {
    await this.db.query(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL`,
      [sessionId, reason],
    );
  }

  /** Revokes every live session of a user, except one when given. */
  async revokeAll(
    userId: string,
    reason: string,
    exceptSessionId: string | null = null,
    manager: EntityManager = this.db.manager,
  ): Promise<void> {
    await manager.query(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
        WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid)`,
      [userId, reason, exceptSessionId],
    );
  }

  /** Revokes one of the user's own live sessions; anyone else's is not found. */
  async revokeOwn(user: AuthUser, sessionId: string): Promise<void> {
    const [revoked] = await this.db.query<[unknown[], number]>(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = 'deleted'
        WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
        RETURNING id`,
      [sessionId, user.id],
    );
    if (revoked.length === 0) throw notFound('Session');
  }

  async list(user: AuthUser): Promise<SessionView[]> {
    const rows: Array<{
      id: string;
      created_at: Date;
      last_used_at: Date;
      user_agent: string | null;
      ip: string | null;
    }> = await this.db.query(
      `SELECT id, created_at, last_used_at, user_agent, ip FROM sessions
        WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
        ORDER BY last_used_at DESC`,
      [user.id],
    );
    return rows.map((r) => ({
      id: r.id,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      userAgent: r.user_agent,
      ip: r.ip,
      current: r.id === user.sessionId,
    }));
  }
}
