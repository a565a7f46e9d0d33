import { Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, register } from 'prom-client';
import { ResponseMetrics } from './http-metrics';
import { MetricsServer } from './metrics-server';
import { PoolMetrics, poolSeries } from './pool-metrics';
import { responseSeries, SERIES, tokenCacheSeries } from './series';
import { AuthModule } from '../auth';

/** A series of prom-client's default metrics: present once they are collected. */
const DEFAULT_METRICS_PROBE = 'process_cpu_user_seconds_total';

/**
 * The API application's metrics, imported only when METRICS_ENABLED is set
 * (AppModule): the series in prom-client's default registry, the response
 * hooks' source (ResponseMetrics, added by createApp), the pool's
 * instrumentation, and the server main.ts starts on METRICS_PORT. Nothing
 * here is served on the API's port.
 */
@Module({
  imports: [AuthModule],
  providers: [
    ...responseSeries,
    ...poolSeries,
    ...tokenCacheSeries,
    ResponseMetrics,
    PoolMetrics,
    MetricsServer,
  ],
  exports: [ResponseMetrics, MetricsServer],
})
export class MetricsModule implements OnModuleInit, OnApplicationShutdown {
  /**
   * prom-client's process and Node.js series (CPU, RSS, heap, event-loop
   * delay, GC, handles), in every process that serves the API, so that a
   * cluster's primary aggregates its workers'. They belong to the process,
   * not to an application: collected once, kept when the application closes.
   */
  onModuleInit(): void {
    if (!register.getSingleMetric(DEFAULT_METRICS_PROBE)) collectDefaultMetrics();
  }

  /**
   * This application's series leave the registry with it, so that another
   * application in the same process (the tests make several) starts from
   * zero and reads its own pool rather than this closed one.
   */
  onApplicationShutdown(): void {
    for (const name of Object.values(SERIES)) register.removeSingleMetric(name);
  }
}
