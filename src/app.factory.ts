import proxyAddr from '@fastify/proxy-addr';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { getSchemaPath } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule, AppOptions } from './app.module';
import pluginMetadata from './metadata';
import { MethodRouter } from './common/method-router';
import { requestIdFrom } from './common/request-id';
import { inspectJson, MAX_JSON_DEPTH, parseKeepingLongFractions } from './common/json-body';
import { ApiError, problemBody, validationFailed } from './common/problem';
import { answerClientError, answerFrameworkError, answerMissingHost } from './common/client-errors';
import { applyServerLimits, CONNECTIONS_CHECK_MS } from './common/server-limits';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { addSecurityHeaders, isDocs } from './common/security-headers';
import { ProblemDetailsDto } from './common/problem.dto';
import { examples } from './common/api-problems';
import { AppValidationPipe, EMPTY_NON_JSON_BODY } from './common/validation';
import { AppConfig, TrustProxy } from './config/app-config';
import { refuseUncheckedSessions } from './auth/fail-closed';
import { logRequests } from './logging';
import { recordResponses, ResponseMetrics } from './metrics/http-metrics';
import { pathOf } from './common/request-path';

export const BODY_LIMIT = 100 * 1024;
/** @fastify/cors's answer to an OPTIONS request that is not a valid preflight. */
const INVALID_PREFLIGHT = 'Invalid Preflight Request';

/** The caller's X-Request-Id when it is sane, else a new one. */
function requestId(req: IncomingMessage): string {
  const id = requestIdFrom(req.headers['x-request-id']);
  (req as IncomingMessage & { id: string }).id = id;
  return id;
}

/** Builds the whole application, ready to listen; main.ts and the e2e tests share it. */
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
    // Node's own answer to a missing Host is a bare 400: the onRequest hook below answers it.
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
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Hooks on every request take a callback, not a promise: one allocation and one tick less each.
  fastify.addHook('onRequest', (request, reply, done) => {
    // Answered here and now, its lifecycle ends: done() is not called.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      return answerMissingHost(request, reply);
    }
    if (!closing) return done();
    void reply.header('connection', 'close');
    done(
      new ApiError('SERVICE_UNAVAILABLE', 'The service is shutting down; retry the request', {
        headers: { 'retry-after': '1' },
      }),
    );
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    if (!reply.hasHeader('cache-control') && !isDocs(request.url)) {
      void reply.header('cache-control', 'no-store');
    }
    // The CORS layer refuses an OPTIONS with an Origin but no Access-Control-Request-Method
    // in plain text: answered as every other error.
    if (reply.statusCode === 400 && payload === INVALID_PREFLIGHT) {
      void reply.header('content-type', 'application/problem+json');
      const detail = 'A CORS preflight needs Origin and Access-Control-Request-Method';
      const body = problemBody(
        { code: 'VALIDATION_FAILED', detail },
        pathOf(request.url),
        String(request.id),
      );
      return done(null, JSON.stringify(body));
    }
    done(null, payload);
  });
  addSecurityHeaders(fastify);
  refuseUncheckedSessions(fastify);
  // With METRICS_ENABLED only, and after the other onSend hooks: it counts the answer as sent.
  if (config.metrics.enabled) recordResponses(fastify, app.get(ResponseMetrics));
  // Without CORS_ORIGINS no origin is allowed, which is what no CORS handling at all gives too.
  if (config.corsOrigins.length > 0) app.enableCors(corsOptions(config.corsOrigins));
  app.useGlobalFilters(new ProblemDetailsFilter(methods));
  app.useGlobalPipes(new AppValidationPipe());
  if (config.docsEnabled) await setupSwagger(app);
  app.enableShutdownHooks();
  await app.init();
  await fastify.ready();
  return app;
}

/**
 * JSON only: anything else with a body is 415. An empty body counts as none
 * whatever its type (axios sends a bodiless POST as a form), so routes that
 * take no body accept it; AppValidationPipe decides for routes that take one.
 */
function configureBodyParsing(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
    (_request, body, done) => {
      if ((body as Buffer).length === 0) return done(null, EMPTY_NON_JSON_BODY);
      done(new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be application/json'));
    },
  );
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser(
    /^application\/([a-z0-9.+-]+\+)?json\s*(;.*)?$/i,
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (request, body, done) => {
      const text = body as string;
      if (text.trim() === '') return done(null, undefined);
      const shape = inspectJson(text);
      if (shape.exponent) {
        return done(
          validationFailed(
            [],
            'Numbers in exponent notation are not accepted; write amounts like "1250.00"',
          ),
          undefined,
        );
      }
      if (shape.depth > MAX_JSON_DEPTH) {
        return done(
          validationFailed([], `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`),
          undefined,
        );
      }
      if (!shape.longFraction) return void parseJson(request, text, done);
      // A double would round the number: its text goes to the field that has to judge it.
      try {
        done(null, parseKeepingLongFractions(text));
      } catch {
        done(validationFailed([], 'The request body is not valid JSON'), undefined);
      }
    },
  );
}

function trustFunction(rule: TrustProxy): (address: string, hop: number) => boolean {
  if (rule === false) return () => false;
  if (rule === true) return () => true;
  if (typeof rule === 'number') return (_address, hop) => hop < rule;
  return proxyAddr.compile(rule);
}

/** The methods the API's routes use; a browser asks before sending PATCH or DELETE. */
export const API_METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'];

function corsOptions(origins: string[]) {
  if (origins.includes('*')) return { origin: '*', credentials: false, methods: API_METHODS };
  return {
    origin: origins,
    credentials: true,
    methods: API_METHODS,
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'Idempotent-Replayed', 'Content-Disposition'],
  };
}

async function setupSwagger(app: NestFastifyApplication): Promise<void> {
  // Compiled by SWC (npm start), the DTOs lack what @nestjs/swagger's CLI plugin adds at a tsc
  // build: it comes from src/metadata.ts (npm run swagger:metadata) instead. Loading it over a
  // tsc build (production) sets the same again. Under ts-jest and ts-node (.ts) it is not
  // loaded: the tests apply the plugin themselves, and the file's imports name the .js files.
  if (__filename.endsWith('.js')) await SwaggerModule.loadPluginMetadata(pluginMetadata);
  const problem = (status: number, description: string) => ({
    status,
    description,
    content: {
      'application/problem+json': {
        schema: { $ref: getSchemaPath(ProblemDetailsDto) },
        examples: examples(status, description),
      },
    },
  });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Bank API')
      .setDescription(
        'Clients, joint accounts and an exact ledger. Log in with POST /api/v1/auth/login, ' +
          'then press Authorize and paste the accessToken. Errors are RFC 9457 problem details.',
      )
      .setVersion('1')
      // Relative: the document describes the server that serves it, wherever that is.
      .addServer('/', 'This server')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .addGlobalResponse(
        // Node's HTTP parser answers it for any route (answerClientError).
        problem(431, 'The request headers are too large (answered before routing: instance "/")'),
        problem(500, 'INTERNAL: an unexpected error; quote the request id'),
        problem(503, 'SERVICE_UNAVAILABLE: the database is unreachable; retry shortly'),
      )
      .build(),
    { extraModels: [ProblemDetailsDto] },
  );
  markUuids(document);
  markPublic(document);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

/**
 * @Auth() documents the bearer requirement, and the global guard refuses
 * every route not marked @Public(): an operation without a security
 * requirement is a public one, and says so with an empty list (generated
 * clients and Swagger UI send it no token). A route that forgot @Auth()
 * would be documented as public while answering 401:
 * test/openapi.e2e-spec.ts calls every operation without a token and fails
 * on it.
 */
function markPublic(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const) {
      const operation = item[method];
      if (operation) operation.security ??= [];
    }
  }
}

const UUID_FIELDS = new Set([
  'id',
  'accountId',
  'clientId',
  'holderId',
  'transferId',
  'reversalOf',
  'reversedBy',
  'performedBy',
  'fromAccountId',
  'toAccountId',
  'sub',
]);

/** Path ids and id fields are UUIDs: say so once here rather than on every DTO and route. */
function markUuids(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as Array<{ parameters?: unknown[] }>) {
      for (const p of operation?.parameters ?? []) {
        const param = p as { in?: string; name: string; schema?: object; description?: string };
        if (param.in !== 'path') continue;
        param.schema = { type: 'string', format: 'uuid' };
        param.description ??= param.name === 'id' ? 'UUID of the resource' : `UUID (${param.name})`;
      }
    }
  }
  for (const schema of Object.values(document.components?.schemas ?? {})) {
    const properties = (
      schema as { properties?: Record<string, { type?: string; format?: string }> }
    ).properties;
    for (const [name, property] of Object.entries(properties ?? {})) {
      if (UUID_FIELDS.has(name) && property.type === 'string' && !property.format)
        property.format = 'uuid';
    }
  }
}
