import {
  Controller,
  Get,
  Injectable,
  LoggerService,
  OnApplicationShutdown,
  Res,
  Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { PrometheusController, PrometheusModule } from '@willsoto/nestjs-prometheus';
import type { FastifyReply } from 'fastify';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import { AppConfig } from '../config/app-config';

/*
 * Metrics are served by a second, tiny Nest application on its own port
 * (METRICS_HOST:METRICS_PORT), never by the API: PrometheusModule mounts its
 * controller in whatever application imports it, so only this one does. The
 * API application's series live in prom-client's default registry, which
 * PrometheusController serves. The API's hooks, pipes, filters and guards
 * are not on this path, and the API's port has no /metrics at all.
 */

export const METRICS_PATH = '/metrics';

/**
 * The cluster primary's /metrics: every worker's registry, asked over the
 * cluster's IPC channel at each scrape and aggregated by prom-client
 * (counters and histograms summed, event-loop delay averaged). A worker
 * answers once it has called answerPrimaryScrapes().
 */
@Controller()
export class ClusterMetricsController extends PrometheusController {
  private readonly workers = new AggregatorRegistry();

  @Get()
  override async index(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const text = await this.workers.clusterMetrics();
    void reply.header('content-type', this.workers.contentType);
    return text;
  }
}

/**
 * In a cluster worker: answers the primary's requests for this process's
 * registry (prom-client installs the responder when an AggregatorRegistry
 * is made). Called first thing in a worker, so that a worker still booting
 * answers with what it has rather than making the primary's scrape wait
 * for it until prom-client's 5 s timeout.
 */
export function answerPrimaryScrapes(): void {
  new AggregatorRegistry();
}

/**
 * Starts a metrics server on `host:port` serving `controller`'s answer at
 * /metrics; resolves with the server and its URL (the port chosen, when 0).
 *
 * `logger` replaces Nest's logger for the whole process (Nest has no other
 * kind): only for a process that runs no other Nest application, the
 * cluster primary. Without it the server logs through the API's logger.
 */
export async function startMetricsServer(
  controller: Type<PrometheusController>,
  options: { port: number; host: string; logger?: LoggerService },
): Promise<{ server: NestFastifyApplication; url: string }> {
  const server = await NestFactory.create<NestFastifyApplication>(
    // Default metrics are collected by the processes that serve the API (MetricsModule).
    PrometheusModule.register({
      path: METRICS_PATH,
      controller,
      defaultMetrics: { enabled: false },
    }),
    new FastifyAdapter(),
    { logger: options.logger, abortOnError: false },
  );
  try {
    await server.listen(options.port, options.host);
  } catch (error) {
    await server.close().catch(() => undefined);
    throw error;
  }
  const { address, port } = server.getHttpServer().address() as AddressInfo;
  const host = ['0.0.0.0', '::'].includes(address)
    ? 'localhost'
    : address.includes(':')
      ? `[${address}]`
      : address;
  return { server, url: `http://${host}:${port}${METRICS_PATH}` };
}

/**
 * The metrics server of a process that is the whole service (no workers):
 * started by main.ts once the API listens, closed with the API application.
 */
@Injectable()
export class MetricsServer implements OnApplicationShutdown {
  private server?: NestFastifyApplication;

  constructor(private readonly config: AppConfig) {}

  /** Serves this process's registry on METRICS_HOST:METRICS_PORT; resolves with its URL. */
  async listen(): Promise<string> {
    const { server, url } = await startMetricsServer(PrometheusController, this.config.metrics);
    this.server = server;
    return url;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}
