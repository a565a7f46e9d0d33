/**
 * The unit-test seam for services: newTestService(SomeService) builds the
 * service with automocked repositories and services, a real configuration,
 * and a DataSource whose transactions run at once. Test code only:
 * tsconfig.build.json leaves src/test-utils out of the build.
 */
import 'reflect-metadata';
import { inspect } from 'node:util';
import type { InjectionToken } from '@nestjs/common';
import { PARAMTYPES_METADATA, SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants';
import { DataSource, EntityManager } from 'typeorm';
import { Cursors } from '../common/pagination';
import { ApiError, ErrorCode, FieldError } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/env';

/** Any class, abstract or not, whatever its constructor takes. */
export type Class<T = unknown> = abstract new (...args: never[]) => T;

/** What a service's constructor takes, one of its parameters' types. */
export type Dependency<S extends Class> = ConstructorParameters<S>[number];

export interface TestServiceOptions {
  /** Environment variables over the defaults of testConfig (DATA_DIR=memory://, a JWT_SECRET). */
  env?: Record<string, string>;
  /** Values for constructor parameters instead of their automocks, as in a Nest module. */
  providers?: Array<{ provide: InjectionToken; useValue: unknown }>;
}

export interface ServiceMocks<S extends Class> {
  /** The automock (or the value from `providers`) the service got for a dependency. */
  get<D extends Dependency<S>>(type: Class<D>): jest.Mocked<D>;
  /**
   * The EntityManager a mocked DataSource hands to every `transaction(work)`
   * (its `work` runs at once) and that is its `manager`.
   */
  readonly em: jest.Mocked<EntityManager>;
  /** The real configuration the service got, when it takes AppConfig. */
  readonly config: AppConfig;
}

export interface TestService<S extends Class> {
  /** The service under test, built with `mocks`. */
  sut: InstanceType<S>;
  mocks: ServiceMocks<S>;
}

/** A real AppConfig from the environment's defaults, an embedded in-memory database and `env`. */
export function testConfig(env: Record<string, string> = {}): AppConfig {
  return new AppConfig(
    validateEnv({
      DATA_DIR: 'memory://',
      JWT_SECRET: 'unit-test-secret-that-is-long-enough-1234',
      ...env,
    }),
  );
}

/**
 * An object whose every method (the class's own and inherited ones) is a
 * jest.fn() that answers undefined until told otherwise; fields are absent.
 * It keeps the class's prototype, so `instanceof` still holds.
 */
export function automock<T>(type: Class<T>): jest.Mocked<T> {
  const prototype = type.prototype as object;
  const mock = Object.create(prototype) as Record<string, unknown>;
  for (let p = prototype; p !== Object.prototype; p = Object.getPrototypeOf(p) as object) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === 'constructor' || Object.hasOwn(mock, name)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(p, name);
      if (typeof descriptor?.value === 'function') mock[name] = jest.fn();
    }
  }
  return mock as jest.Mocked<T>;
}

type Work = (em: EntityManager) => Promise<unknown>;

/** Runs the work of `transaction([isolation,] work)` at once, on `em`. */
const runAt =
  (em: EntityManager) =>
  (...args: unknown[]) =>
    (args.find((a) => typeof a === 'function') as Work)(em);

function mockDataSource(em: jest.Mocked<EntityManager>): jest.Mocked<DataSource> {
  const db = automock(DataSource);
  Object.assign(db, { manager: em });
  db.transaction.mockImplementation(runAt(em));
  return db;
}

/** The token Nest injects for each constructor parameter: @Inject's, else the declared type. */
function dependencyTokens(service: Class): unknown[] {
  const tokens = [...((Reflect.getMetadata(PARAMTYPES_METADATA, service) ?? []) as unknown[])];
  const declared = (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, service) ?? []) as Array<{
    index: number;
    param: unknown;
  }>;
  for (const { index, param } of declared) tokens[index] = param;
  return tokens.map((token) => {
    const ref = token as { forwardRef?: () => unknown } | undefined;
    return typeof ref?.forwardRef === 'function' ? ref.forwardRef() : token;
  });
}

/**
 * Builds a service as Nest would, with every constructor dependency an
 * automock (see automock) except:
 * - AppConfig: a real one (testConfig, with `options.env`);
 * - Cursors: the real one, under that configuration's key;
 * - DataSource: an automock whose `transaction(work)` runs `work(mocks.em)`
 *   and whose `manager` is `mocks.em`;
 * - anything in `options.providers`.
 *
 *     const { sut, mocks } = newTestService(ClientsService);
 *     mocks.get(ClientsRepository).findById.mockResolvedValue(null);
 *     expect(await refusalOf(sut.update(id, dto))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
 *     expect(mocks.get(ClientsRepository).save).not.toHaveBeenCalled();
 *
 * Give a real configuration other values with `{ env: { DEFAULT_CURRENCY: 'CHF' } }`,
 * and any parameter a value of your own with `{ providers: [{ provide, useValue }] }`.
 *
 * The parameter types come from the decorator metadata tsc emits
 * (emitDecoratorMetadata), and @Inject() tokens from Nest's own metadata.
 */
export function newTestService<S extends new (...args: never[]) => unknown>(
  service: S,
  options: TestServiceOptions = {},
): TestService<S> {
  const config = testConfig(options.env);
  const em = automock(EntityManager);
  em.transaction.mockImplementation(runAt(em));
  const given = new Map<unknown, unknown>(options.providers?.map((p) => [p.provide, p.useValue]));
  const mocks = new Map<unknown, unknown>();

  const args = dependencyTokens(service).map((token, index) => {
    if (given.has(token)) {
      mocks.set(token, given.get(token));
      return given.get(token);
    }
    if (token === AppConfig) return config;
    if (token === Cursors) return new Cursors(config);
    if (typeof token !== 'function' || token === Object) {
      throw new Error(
        `${service.name}: constructor parameter ${index} (${String(token)}) has no class to ` +
          'mock (an import cycle, an interface or a string token): give it in options.providers',
      );
    }
    const mock = token === DataSource ? mockDataSource(em) : automock(token as Class);
    mocks.set(token, mock);
    return mock;
  });

  return {
    sut: new service(...(args as never[])) as InstanceType<S>,
    mocks: {
      get<D>(type: Class<D>): jest.Mocked<D> {
        if (!mocks.has(type)) {
          throw new Error(`${service.name} has no mocked dependency ${type.name}`);
        }
        return mocks.get(type) as jest.Mocked<D>;
      },
      em,
      config,
    },
  };
}

/** What a client sees of a refusal: its HTTP status, code, detail and field errors. */
export interface Refusal {
  status: number;
  code: ErrorCode;
  detail: string;
  errors?: FieldError[];
}

/**
 * The ApiError `promise` rejects with, as a plain object for toEqual or
 * toMatchObject; fails the test when it resolves or rejects with anything else.
 *
 *     expect(await refusalOf(sut.close(id))).toMatchObject({ status: 409, code: 'BALANCE_NOT_ZERO' });
 */
export async function refusalOf(promise: Promise<unknown>): Promise<Refusal> {
  let answer: unknown;
  try {
    answer = await promise;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return {
      status: error.status,
      code: error.code,
      detail: error.message,
      errors: error.extra.errors,
    };
  }
  throw new Error(
    `Expected a refusal (ApiError), but it answered ${inspect(answer, { breakLength: Infinity })}`,
  );
}
