import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, getSchemaPath, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { examples } from '../common/api-problems';
import { ProblemDetailsDto } from '../common/problem.dto';
import pluginMetadata from '../metadata';

/** Swagger UI at /docs and the OpenAPI document at /docs-json. */
export async function setupSwagger(app: NestFastifyApplication): Promise<void> {
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
