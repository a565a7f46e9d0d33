import proxyAddr from '@fastify/proxy-addr';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { Logger } from 'nestjs-pino';
import { AppModule, AppOptions } from './app.module';
import { refuseUncheckedSessions } from './auth';
import { BODY_LIMIT, configureBodyParsing } from './bootstrap/body-parsing';
import { answerRefusedPreflights, corsOptions } from './bootstrap/cors';
import { addRequestHooks, requestId } from './bootstrap/hooks';
import { setupSwagger } from './bootstrap/swagger';
import { answerClientError, answerFrameworkError } from './common/client-errors';
import { MethodRouter } from './common/method-router';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { addSecurityHeaders } from './common/security-headers';
import { applyServerLimits, CONNECTIONS_CHECK_MS } from './common/server-limits';
import { StrictQueryGuard } from './common/strict-query';
import { AppValidationPipe } from './common/validation';
import { AppConfig, TrustProxy } from './config/app-config';
import { logRequests } from './logging';
import { recordResponses, ResponseMetrics } from './metrics/http-metrics';

/**
 * The application, assembled: the Fastify adapter and its limits, then the
 * pieces in bootstrap/ (body parsing, the hooks every request passes, CORS,
 * Swagger), the security headers, the fail-closed session hook, metrics,
 * the global filter and pipe. main.ts and the e2e tests share it.
 */
export async function createApp(options: AppOptions = {}): Promise<NestFastifyApplication> {
  // Fastify needs the proxy rule at construction, before configuration is loaded.
  let trust: (address: string, hop: number) => boolean = () => false;
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    trustProxy: (address: string, hop: number) => trust(address, hop),
    genReqId: requestId,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    return503OnClosing: false,
    // No Express-style middleware is mounted, so @fastify/middie is not needed on every request.
    skipMiddie: true,
    // What Node's HTTP parser refuses (oversized headers, bad framing, a request that took
    // longer than REQUEST_TIMEOUT) gets problem details too, as does what Fastify's router does.
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
    // Node's own answer to a missing Host is a bare 400: addRequestHooks answers it instead.
    http: { requireHostHeader: false, connectionsCheckingInterval: CONNECTIONS_CHECK_MS },
  });
  const methods = new MethodRouter();
  const fastify: FastifyInstance = adapter.getInstance();
  fastify.addHook('onRoute', (route) => methods.add(route.method, route.url));

  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(options),
    adapter,
    {
      bufferLogs: true,
      bodyParser: false,
      abortOnError: false,
    },
  );
  app.useLogger(app.get(Logger));
  app.flushLogs();
  const config = app.get(AppConfig);
  trust = trustFunction(config.trustProxy);
  applyServerLimits(adapter.getHttpServer(), config);

  configureBodyParsing(fastify);
  logRequests(fastify);
  addRequestHooks(fastify);
  addSecurityHeaders(fastify);
  refuseUncheckedSessions(fastify);
  // With METRICS_ENABLED only, and after the other onSend hooks: it counts the answer as sent.
  if (config.metrics.enabled) recordResponses(fastify, app.get(ResponseMetrics));
  // Without CORS_ORIGINS no origin is allowed, which is what no CORS handling at all gives too;
  // a preflight the browser must be refused is answered 204 with no CORS header, never 405.
  answerRefusedPreflights(fastify, config.corsOrigins);
  if (config.corsOrigins.length > 0) {
    app.enableCors(corsOptions(config.corsOrigins, config.corsMaxAgeSeconds));
  }
  app.useGlobalFilters(new ProblemDetailsFilter(methods));
  app.useGlobalPipes(new AppValidationPipe());
  // After the authentication guard, which the module registered already (APP_GUARD).
  app.useGlobalGuards(new StrictQueryGuard());
  if (config.docsEnabled) await setupSwagger(app);
  app.enableShutdownHooks();
  await app.init();
  await fastify.ready();
  return app;
}

function trustFunction(rule: TrustProxy): (address: string, hop: number) => boolean {
  if (rule === false) return () => false;
  if (rule === true) return () => true;
  if (typeof rule === 'number') return (_address, hop) => hop < rule;
  return proxyAddr.compile(rule);
}
