import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { LOGIN_THROTTLE } from '../auth/throttle-window';

/**
 * Keeps tables from growing without bound: ended sessions (kept a day for
 * the record) and login failures older than the throttling window. Safe to
 * run on every instance at once.
 */
@Injectable()
export class PruneService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PruneService.name);

  constructor(
    private readonly db: DataSource,
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
      for (const [table, sql] of Object.entries(this.statements())) {
        const [, count] = await this.db.query<[unknown, number]>(sql);
        removed[table] = count;
      }
      this.logger.log({ removed }, 'Pruned expired rows');
    } catch (error) {
      this.logger.warn({ err: error }, 'Pruning failed; will retry at the next interval');
    }
    return removed;
  }

  protected statements(): Record<string, string> {
    return {
      sessions: `DELETE FROM sessions WHERE expires_at < now() - interval '1 day'
                    OR revoked_at < now() - interval '1 day'`,
      login_failures: `DELETE FROM login_failures
                        WHERE created_at < now() - make_interval(secs => ${LOGIN_THROTTLE.windowSeconds})`,
      // Kept at least 24 hours, as the contract promises clients.
      idempotency_keys: `DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'`,
    };
  }
}
