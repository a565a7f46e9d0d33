import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { LoginFailuresRepository } from '../auth/login-failures.repository';
import { SessionsRepository } from '../auth/sessions.repository';
import { LOGIN_THROTTLE } from '../auth/throttle-window';
import { IdempotencyKeysRepository } from '../idempotency/idempotency-keys.repository';
import { StatementSlotsRepository } from '../operations/statement-slots.repository';

/**
 * Keeps tables from growing without bound: ended sessions (kept a day for
 * the record), login failures older than the throttling window, addresses
 * of successful logins older than the 30 days they are known,
 * Idempotency-Keys past the 24 hours they are kept, and statement slots whose
 * lease is over. Each table's owner
 * deletes its own rows; safe to run on every instance at once.
 */
@Injectable()
export class PruneService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PruneService.name);

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly loginFailures: LoginFailuresRepository,
    private readonly idempotencyKeys: IdempotencyKeysRepository,
    private readonly statementSlots: StatementSlotsRepository,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.run(), this.config.pruneIntervalSeconds * 1000);
    timer.unref();
    this.scheduler.addInterval('prune', timer);
  }

  onApplicationShutdown(): void {
    if (this.scheduler.doesExist('interval', 'prune')) this.scheduler.deleteInterval('prune');
  }

  async run(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    try {
      removed.sessions = await this.sessions.deleteEnded();
      removed.login_failures = await this.loginFailures.deleteOlderThan(
        LOGIN_THROTTLE.windowSeconds,
      );
      removed.login_successes = await this.loginFailures.deleteSuccessesOlderThan(
        LOGIN_THROTTLE.knownAddressSeconds,
      );
      removed.idempotency_keys = await this.idempotencyKeys.deleteExpired();
      removed.statement_slots = await this.statementSlots.deleteExpired();
      this.logger.log({ removed }, 'Pruned expired rows');
    } catch (error) {
      this.logger.warn({ err: error }, 'Pruning failed; will retry at the next interval');
    }
    return removed;
  }
}
