import { Prunable } from '../common/prunable';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { HeldSlot, StatementSlotsRepository } from './statement-slots.repository';

/** How long a claimed slot lasts unless its instance renews it. */
export const SLOT_LEASE_SECONDS = 30;
/** How often an instance renews the slots of its streams: well within a lease. */
const RENEW_EVERY_MS = 10_000;
/** What a refused statement is told to wait: the first of the streams ahead may end any time. */
const RETRY_AFTER_SECONDS = 5;

/**
 * At most STATEMENT_CONCURRENCY statements streaming per user, over every
 * instance: each holds one of the user's slots in the database while it
 * streams. This instance also counts its own claims, so a burst from one
 * user beyond the limit is refused here without a query, and never queues
 * in the pool ahead of other requests.
 */
@Injectable()
export class StatementSlotsService implements OnApplicationShutdown, Prunable {
  private readonly logger = new Logger('Statements');
  /** Per user, the claims of this instance: being made or held. */
  private readonly claims = new Map<string, number>();
  private readonly held = new Set<HeldSlot>();
  private renewal?: NodeJS.Timeout;

  constructor(
    private readonly slots: StatementSlotsRepository,
    private readonly config: AppConfig,
  ) {}

  /** Slots whose lease is over (their holders died without releasing them). */
  async prune(): Promise<Record<string, number>> {
    return { statement_slots: await this.slots.deleteExpired() };
  }

  /**
   * Takes one of the user's slots, or refuses with 429. Answers the
   * function that frees it (calling it again does nothing).
   */
  async claim(userId: string): Promise<() => Promise<void>> {
    const limit = this.config.statements.concurrency;
    const mine = this.claims.get(userId) ?? 0;
    if (mine >= limit) throw tooMany(limit);
    this.claims.set(userId, mine + 1);
    let slot: HeldSlot | undefined;
    try {
      slot = await this.take(userId, limit);
    } finally {
      if (!slot) this.unclaim(userId);
    }
    if (!slot) throw tooMany(limit);
    const held = slot;
    this.held.add(held);
    this.renewal ??= setInterval(() => void this.renew(), RENEW_EVERY_MS).unref();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.held.delete(held);
      this.unclaim(userId);
      if (this.held.size === 0) this.stopRenewing();
      await this.slots
        .release(held)
        .catch((error: unknown) =>
          this.logger.warn(
            { err: error },
            'A statement slot could not be released; its lease will end',
          ),
        );
    };
  }

  onApplicationShutdown(): void {
    this.stopRenewing();
  }

  /**
   * A claim takes the lowest slot free in its snapshot; one that lost that
   * slot to a concurrent claim tries again, and each try sees one more slot
   * taken, so `limit` tries are enough to find a free one if there is any.
   */
  private async take(userId: string, limit: number): Promise<HeldSlot | undefined> {
    for (let attempt = 0; attempt < limit; attempt++) {
      const holder = randomUUID();
      const slot = await this.slots.claim(userId, limit, holder, SLOT_LEASE_SECONDS);
      if (slot !== null) return { userId, slot, holder };
    }
    return undefined;
  }

  private unclaim(userId: string): void {
    const left = (this.claims.get(userId) ?? 1) - 1;
    if (left > 0) this.claims.set(userId, left);
    else this.claims.delete(userId);
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await this.slots.renew([...this.held], SLOT_LEASE_SECONDS);
    } catch (error) {
      this.logger.warn({ err: error }, 'Statement slots could not be renewed; will retry');
    }
  }

  private stopRenewing(): void {
    clearInterval(this.renewal);
    this.renewal = undefined;
  }
}

const tooMany = (limit: number) =>
  new ApiError(
    'TOO_MANY_REQUESTS',
    `You are already streaming ${limit} statement${limit === 1 ? '' : 's'}; retry when one ends`,
    { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
  );
