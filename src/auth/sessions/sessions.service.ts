import { Prunable } from '../../common/prunable';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuthUser } from '../auth-user';
import { ApiError, notFound } from '../../common/problem';
import { AppConfig } from '../../config/app-config';
import { TokensService } from '../tokens/tokens.service';
import { Caller, userFromMe } from '../caller';
import { SessionDto } from '../dto/auth.dto';
import { SessionsRepository } from './sessions.repository';
import { AuditService } from '../../audit/audit.service';
import { auditActor } from '../auth-user';
import { invalidRefresh } from '../auth.errors';

export interface IssuedRefresh {
  userId: string;
  sessionId: string;
  refreshToken: string;
  /** Seconds the refresh token lives from now: the configured lifetime when it is new. */
  expiresIn: number;
}

/**
 * Sessions live in the database, so logout, disabling a user and a role
 * change take effect at the next request on every instance.
 */
@Injectable()
export class SessionsService implements Prunable {
  constructor(
    private readonly db: DataSource,
    private readonly sessions: SessionsRepository,
    private readonly tokens: TokensService,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  /** Sessions that ended (revoked or expired) more than a day ago: kept that long for the record. */
  async prune(): Promise<Record<string, number>> {
    return { sessions: await this.sessions.deleteEnded() };
  }

  async create(userId: string, userAgent: string | undefined, ip: string): Promise<IssuedRefresh> {
    const sessionId = randomUUID();
    const refreshToken = this.tokens.refreshToken(sessionId, 0);
    await this.sessions.insert({
      id: sessionId,
      userId,
      ttl: this.config.jwt.refreshTtl,
      refreshHash: this.tokens.hashRefresh(refreshToken),
      userAgent: userAgent?.slice(0, 512) ?? null,
      ip,
    });
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
    const ttl = this.config.jwt.refreshTtl;
    const rotatedFor = await this.sessions.rotate(
      sessionId,
      this.tokens.hashRefresh(token),
      this.tokens.hashRefresh(successor),
      ttl,
    );
    if (rotatedFor)
      return { userId: rotatedFor, sessionId, refreshToken: successor, expiresIn: ttl };

    const session = await this.sessions.state(sessionId, this.config.jwt.refreshReuseGrace);
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
      // One statement, autocommitted: the event is recorded after it, on its own.
      await this.revoke(sessionId, 'refresh_reuse');
      await this.audit.recordApart({
        type: 'auth.refresh.reused',
        actor: { id: session.user_id, username: session.username, role: session.role },
        subject: { type: 'session', id: sessionId },
        outcome: 'refused',
        reason: 'REFRESH_TOKEN_REUSED',
      });
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
    return userFromMe(await this.sessions.check(sessionId, userId), sessionId);
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
    const row = await this.sessions.findLiveRefresh(
      parts.sessionId,
      this.tokens.hashRefresh(token),
    );
    return row ? { userId: row.user_id, expiresAt: row.expires_at } : null;
  }

  revoke(sessionId: string, reason: string): Promise<void> {
    return this.sessions.revoke(sessionId, reason);
  }

  /** Revokes every live session of a user, except one when given. */
  revokeAll(
    userId: string,
    reason: string,
    exceptSessionId: string | null = null,
    manager: EntityManager = this.db.manager,
  ): Promise<void> {
    return this.sessions.revokeAll(manager, userId, reason, exceptSessionId);
  }

  /** Revokes one of the user's own live sessions; anyone else's is not found. */
  async revokeOwn(user: AuthUser, sessionId: string): Promise<void> {
    if (!(await this.sessions.revokeOfUser(sessionId, user.id, 'deleted'))) {
      throw notFound('Session');
    }
    // One autocommitted statement: recorded after it succeeded, on its own.
    await this.audit.recordApart({
      type: 'auth.session.revoked',
      actor: auditActor(user),
      subject: { type: 'session', id: sessionId },
    });
  }

  async list(user: AuthUser): Promise<SessionDto[]> {
    const rows = await this.sessions.live(user.id);
    return rows.map((r) => ({
      id: r.id,
      createdAt: r.createdAt,
      lastUsedAt: r.lastUsedAt,
      userAgent: r.userAgent,
      ip: r.ip,
      current: r.id === user.sessionId,
    }));
  }
}
