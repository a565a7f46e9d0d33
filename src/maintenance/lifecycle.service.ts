import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';

/** Says when and why the service stops, so a log reader knows a restart was asked for. */
@Injectable()
export class LifecycleService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Lifecycle');

  beforeApplicationShutdown(signal?: string): void {
    this.logger.log(`Shutting down${signal ? ` on ${signal}` : ''}: finishing requests in flight`);
  }
}
