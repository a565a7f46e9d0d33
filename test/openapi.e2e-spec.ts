import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { FASTIFY_ROUTE_SCHEMA_METADATA } from '@nestjs/platform-fastify/constants';
import { TestApp } from './helpers/app';

const run = promisify(execFile);
const LINTER = join(__dirname, '..', 'scripts', 'lint-openapi.mjs');
/** The document as committed: what clients generate their code from. */
const COMMITTED = join(__dirname, '..', 'openapi.json');

interface Problem {
  rule: string;
  severity: string;
  message: string;
  where: string;
}

/** A schema of the OpenAPI document, or of a serializer (SerializedAs). */
interface Schema {
  type?: string | string[];
  format?: string;
  nullable?: boolean;
  $ref?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
}

/**
 * What a serializer makes of a schema: each property's JSON type, whether it
 * may be null, whether it is a date, and the same of what it holds.
 */
function written(schema: Schema, components: Record<string, Schema>): unknown {
  if (schema.$ref) return written(components[schema.$ref.split('/').pop()!], components);
  const types = ([] as string[]).concat(schema.type ?? []);
  return {
    type: types.find((type) => type !== 'null'),
    nullable: schema.nullable === true || types.includes('null'),
    date: schema.format === 'date-time',
    ...(schema.items ? { items: written(schema.items, components) } : {}),
    ...(schema.properties
      ? {
          properties: Object.fromEntries(
            Object.entries(schema.properties).map(([name, p]) => [name, written(p, components)]),
          ),
        }
      : {}),
  };
}

interface Operation {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, unknown>;
}

/** The served document, as generated clients and Swagger UI read it. */
describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Schema> };
  };
  let text: string;

  beforeAll(async () => {
    t = await TestApp.start();
    const res = await t.http.get('/docs-json');
    text = res.text;
    doc = res.body;
  });
  afterAll(async () => {
    await t.close();
  });

  it("passes Redocly's recommended rules with no error and no warning", async () => {
    const lint = run(process.execPath, [LINTER, '--json'], { maxBuffer: 16 << 20 });
    lint.child.stdin!.end(text);
    const problems: Problem[] = await lint.then(
      (r) => JSON.parse(r.stdout),
      (e: { stdout: string }) => JSON.parse(e.stdout),
    );
    expect(problems).toEqual([]);
  });

  it('every operation has a summary', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect({ operation: `${method} ${path}`, summary: operation.summary }).toEqual({
          operation: `${method} ${path}`,
          summary: expect.stringMatching(/\S/),
        });
      }
    }
  });

  it('an operation documented as public answers without a token, and every other one is 401', async () => {
    const publicOnes: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const url = path.replace(/\{[^}]+\}/g, randomUUID());
        const res = await t.http[method as 'get' | 'post' | 'patch' | 'delete'](url);
        const name = `${method} ${path}`;
        if (operation.security?.length === 0) {
          publicOnes.push(name);
          expect({ name, status: res.status }).not.toEqual({ name, status: 401 });
        } else {
          expect({ name, security: operation.security }).toEqual({
            name,
            security: [{ bearer: [] }],
          });
          expect({ name, status: res.status, code: res.body.code }).toEqual({
            name,
            status: 401,
            code: 'UNAUTHENTICATED',
          });
        }
      }
    }
    // Login, refresh and verify (both spellings), the health check and the published keys.
    expect(publicOnes).toHaveLength(8);
  });

  // A field missing from a serializer's schema would silently not be sent.
  it('every route with its own serializer (SerializedAs) writes every field of its documented answer', () => {
    const checked: string[] = [];
    for (const module of t.app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const metatype = wrapper.metatype as object;
        const base = String(Reflect.getMetadata(PATH_METADATA, metatype));
        const prototype = (metatype as { prototype: Record<string, unknown> }).prototype;
        for (const key of Object.getOwnPropertyNames(prototype)) {
          const handler = prototype[key];
          if (typeof handler !== 'function') continue;
          const route = Reflect.getMetadata(FASTIFY_ROUTE_SCHEMA_METADATA, handler) as
            { response?: Record<string, Schema> } | undefined;
          if (!route) continue;
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
          const path = `/${[base, Reflect.getMetadata(PATH_METADATA, handler) as string].filter(Boolean).join('/')}`;
          const operation = doc.paths[path.replace(/:(\w+)/g, '{$1}')][method.toLowerCase()];
          const ok = operation.responses['200'] as {
            content: Record<string, { schema: Schema }>;
          };
          const { schemas } = doc.components;
          const name = `${method} ${path}`;
          expect({ name, writes: written(route.response!['200'], schemas) }).toEqual({
            name,
            writes: written(ok.content['application/json'].schema, schemas),
          });
          checked.push(name);
        }
      }
    }
    expect(checked.sort()).toEqual(['GET /api/v1/accounts/:id', 'GET /api/v1/auth/me']);
  });

  it('describes every tag an operation carries, the simplejwt group as the Django original', () => {
    const tags = (doc as unknown as { tags?: Array<{ name: string; description?: string }> }).tags;
    const described = new Map(tags?.map((tag) => [tag.name, tag.description ?? '']));
    const used = new Set(
      Object.values(doc.paths).flatMap((item) =>
        Object.values(item).flatMap((operation) => operation.tags ?? []),
      ),
    );
    expect(used.size).toBeGreaterThan(5);
    for (const tag of used) {
      expect({ tag, description: described.get(tag) }).toEqual({
        tag,
        description: expect.stringMatching(/\S/),
      });
    }
    expect(described.get('simplejwt compatibility')).toMatch(/Django original.*unchanged/s);
  });

  it('describes every success response', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!status.startsWith('2')) continue;
          const { description } = response as { description?: string };
          expect({ at: `${method} ${path} ${status}`, description }).toEqual({
            at: `${method} ${path} ${status}`,
            description: expect.stringMatching(/\S/),
          });
        }
      }
    }
  });

  it('describes 431, 500 and 503 once, in the document, not on each operation', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        // /health's 503 is its own answer (the database is down), not the shared one.
        const shared = path === '/health' ? ['431', '500'] : ['431', '500', '503'];
        const listed = shared.filter((status) => status in operation.responses);
        expect({ at: `${method} ${path}`, listed }).toEqual({
          at: `${method} ${path}`,
          listed: [],
        });
      }
    }
    const description = (doc as unknown as { info: { description: string } }).info.description;
    // 431 is what Node's parser answers before routing (src/common/client-errors.ts).
    expect(description).toMatch(/\*\*431\*\*[^\n]*`VALIDATION_FAILED`[^\n]*`\/`/);
    expect(description).toMatch(/\*\*500\*\*[^\n]*`INTERNAL`/);
    expect(description).toMatch(/\*\*503\*\*[^\n]*`SERVICE_UNAVAILABLE`/);
  });

  it('gives examples that agree with each other', () => {
    const { schemas } = doc.components as unknown as {
      schemas: Record<string, { properties: Record<string, { example?: unknown }> }>;
    };
    const example = (schema: string, property: string) =>
      schemas[schema].properties[property].example;
    expect([example('AccountDto', 'status'), example('AccountDto', 'closedAt')]).toEqual([
      'active',
      null,
    ]);
    expect([example('MeDto', 'role'), example('MeDto', 'clientId')]).toEqual(['admin', null]);
    expect([example('UserDto', 'role'), example('UserDto', 'clientId')]).toEqual(['teller', null]);
  });

  it('is MIT-licensed, as the project is', () => {
    expect((doc as unknown as { info: { license: unknown } }).info.license).toEqual({
      name: 'MIT',
      url: 'https://opensource.org/licenses/MIT',
    });
  });

  it('has a filter box in Swagger UI', async () => {
    const init = await t.http.get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toMatch(/"filter": true/);
  });

  // `npm run openapi:write` rewrites openapi.json from the served document after a change.
  it('is openapi.json as committed', () => {
    if (process.env.OPENAPI_WRITE === '1') {
      writeFileSync(COMMITTED, `${JSON.stringify(doc, null, 2)}\n`);
    }
    const committed: unknown = JSON.parse(readFileSync(COMMITTED, 'utf8'));
    expect(doc).toEqual(committed);
  });
});
