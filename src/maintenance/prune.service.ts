import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { LoginThrottleService, SessionsService } from '../auth';
import { Prunable } from '../common/prunable';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { StatementSlotsService } from '../operations/statement-slots.service';
import { PayeesService } from '../payees/payees.service';

/**
 * Keeps tables from growing without bound: ended sessions (kept a day for
 * the record), login failures older than the throttling window, addresses
 * of successful logins older than the 30 days they are known,
 * Idempotency-Keys past the 24 hours they are kept, statement slots whose
 * lease is over, and verifications of payee older than their hour. Each
 * module prunes its own tables (Prunable); this service only calls them.
 * Safe to run on every instance at once.
 */
@Injectable()
export class PruneService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PruneService.name);

  private readonly owners: Prunable[];

  constructor(
    sessions: SessionsService,
    loginThrottle: LoginThrottleService,
    idempotency: IdempotencyService,
    statementSlots: StatementSlotsService,
    payees: PayeesService,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.owners = [sessions, loginThrottle, idempotency, statementSlots, payees];
  }

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
      for (const owner of this.owners) Object.assign(removed, await owner.prune());
      this.logger.log({ removed }, 'Pruned expired rows');
    } catch (error) {
      this.logger.warn({ err: error }, 'Pruning failed; will retry at the next interval');
    }
    return removed;
  }
}
