import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, getSchemaPath, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { examples } from '../common/api-problems';
import { ProblemDetailsDto } from '../common/problem.dto';
import pluginMetadata from '../metadata';

/**
 * Answers any operation may give, described here once rather than on every
 * operation: 431 comes from Node's HTTP parser before routing (so its
 * instance is "/"), 500 and 503 from anywhere.
 */
const DESCRIPTION = [
  'Clients, joint accounts and an exact ledger. Log in with POST /api/v1/auth/login, ' +
    'then press Authorize and paste the accessToken.',
  '',
  'Errors are RFC 9457 problem details (`application/problem+json`, the ProblemDetailsDto ' +
    'schema) with a stable `code` and the `requestId`, which the `X-Request-Id` header repeats. ' +
    'Each operation lists the errors of its own; these three can answer any request and are ' +
    'not repeated on each:',
  '',
  '- **431** Request Header Fields Too Large, code `VALIDATION_FAILED`: the headers are over ' +
    '16 KB. Answered before routing, so its `instance` is `/`.',
  '- **500** Internal Server Error, code `INTERNAL`: an unexpected error. The body shows no ' +
    'detail; quote its `requestId`.',
  '- **503** Service Unavailable, code `SERVICE_UNAVAILABLE`: the database is unreachable, ' +
    'or the service is shutting down; retry shortly (`Retry-After`).',
  '',
  'Unknown body fields and unknown query parameters are refused (400 `VALIDATION_FAILED` ' +
    'naming them): each operation lists every query parameter it accepts.',
].join('\n');

/** Every tag an operation carries, with what its group holds. */
const TAGS: Array<[string, string]> = [
  ['auth', 'Log in, refresh and verify tokens, log out; the caller, its sessions and password.'],
  [
    'simplejwt compatibility',
    "The token routes of the Django original (djangorestframework-simplejwt's /api/token/), " +
      'kept so that its clients work unchanged. They share the sessions, rotation and reuse ' +
      'detection of /api/v1/auth; new clients use /api/v1/auth.',
  ],
  [
    'users',
    'Logins and their roles (admin only): admins, tellers, and customers linked to a client.',
  ],
  ['clients', "The bank's clients (staff); a customer reads its own client."],
  ['accounts', 'Accounts with their balance and holders: opening, freezing, holders, closing.'],
  [
    'operations',
    'The ledger: deposits, withdrawals, transfers, reversals, account histories and statements.',
  ],
  ['payees', 'Checking a payee before paying it: whether an account number and name match.'],
  [
    'audit',
    'The audit log (admin): every change and authentication event, and the check of its hash chain.',
  ],
  ['health', 'Whether the service and its database answer: for load balancers and monitors.'],
];

/** Swagger UI at /docs and the OpenAPI document at /docs-json. */
export async function setupSwagger(app: NestFastifyApplication): Promise<void> {
  // Compiled by SWC (npm start), the DTOs lack what @nestjs/swagger's CLI plugin adds at a tsc
  // build: it comes from src/metadata.ts (npm run swagger:metadata) instead. Loading it over a
  // tsc build (production) sets the same again. Under ts-jest and ts-node (.ts) it is not
  // loaded: the tests apply the plugin themselves, and the file's imports name the .js files.
  if (__filename.endsWith('.js')) await SwaggerModule.loadPluginMetadata(pluginMetadata);
  const document = SwaggerModule.createDocument(
    app,
    TAGS.reduce(
      (builder, [name, description]) => builder.addTag(name, description),
      new DocumentBuilder()
        .setTitle('Bank API')
        .setDescription(DESCRIPTION)
        .setVersion('1')
        .setLicense('MIT', 'https://opensource.org/licenses/MIT')
        // Relative: the document describes the server that serves it, wherever that is.
        .addServer('/', 'This server')
        .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    ).build(),
    { extraModels: [ProblemDetailsDto] },
  );
  markUuids(document);
  markPublic(document);
  describeSuccesses(document);
  describeUnknownQueryParameters(document);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true, filter: true },
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

/**
 * A success without a description of its own gets one from what it answers
 * (`AccountDto`: "The account"; `AccountPage`: "A page of accounts"), so that
 * every 2xx in the document says what it is.
 */
function describeSuccesses(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as Array<{
      responses?: Record<string, { description?: string; content?: object }>;
    }>) {
      for (const [status, response] of Object.entries(operation?.responses ?? {})) {
        if (!status.startsWith('2') || response.description) continue;
        response.description = successDescription(status, response.content);
      }
    }
  }
}

function successDescription(status: string, content: object | undefined): string {
  const schema = (content as Record<string, { schema?: SchemaRef }> | undefined)?.[
    'application/json'
  ]?.schema;
  const ref = schema?.$ref ?? schema?.items?.$ref;
  if (!ref) return status === '201' ? 'Created' : status === '204' ? 'Done' : 'OK';
  const words = ref
    .split('/')
    .pop()!
    .replace(/Dto$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
  if (words.endsWith(' page')) return `A page of ${words.slice(0, -' page'.length)}s`;
  if (schema?.items) return `The list of ${words}s`;
  return `${status === '201' ? 'Created: the' : 'The'} ${words}`;
}

interface SchemaRef {
  $ref?: string;
  items?: { $ref?: string };
}

const UNKNOWN_QUERY = 'VALIDATION_FAILED: an unknown query parameter (errors names it)';

/**
 * Every route refuses an unknown query parameter (StrictQueryGuard): an
 * operation that lists no 400 of its own gets this one, so that none claims
 * it cannot answer 400.
 */
function describeUnknownQueryParameters(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as Array<{ responses?: Record<string, object> }>) {
      if (!operation?.responses || '400' in operation.responses) continue;
      operation.responses['400'] = {
        description: UNKNOWN_QUERY,
        content: {
          'application/problem+json': {
            schema: { $ref: getSchemaPath(ProblemDetailsDto) },
            examples: examples(400, UNKNOWN_QUERY),
          },
        },
      };
    }
  }
}
