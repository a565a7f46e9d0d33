import 'reflect-metadata';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp } from '../../src/app.factory';
import { cloneTemplate, databaseEnv, dropDatabase, onServer } from './databases';

export const ADMIN_PASSWORD = 'admin-password-for-e2e-tests';
export const TEST_JWT_SECRET = 'e2e-test-secret-that-is-at-least-32-bytes-long';
export const USER_PASSWORD = 'a-user-password-for-tests';

const ORIGINAL_ENV = { ...process.env };

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
  refreshExpiresIn: number;
}

let addressCounter = 0;
/** A distinct client address per call (TRUST_PROXY=loopback makes X-Forwarded-For count). */
export function freshAddress(): string {
  addressCounter += 1;
  return `198.51.${Math.floor(addressCounter / 250) % 250}.${(addressCounter % 250) + 1}`;
}

/** The real application on a real database, driven through HTTP. */
export class TestApp {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly database: string | null,
    private readonly ownsDatabase: boolean,
  ) {}

  /**
   * Starts the app. `database` joins an existing server database (a second
   * instance); otherwise a fresh one is made.
   */
  static async start(
    env: Record<string, string> = {},
    options: { database?: string } = {},
  ): Promise<TestApp> {
    const database = onServer ? (options.database ?? (await cloneTemplate())) : null;
    const next: Record<string, string | undefined> = {
      ...ORIGINAL_ENV,
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      JWT_SECRET: TEST_JWT_SECRET,
      ADMIN_PASSWORD,
      DATA_DIR: 'memory://',
      TRUST_PROXY: 'loopback',
      DOCS_ENABLED: 'true',
      ...env,
    };
    if (!env.DATABASE_URL) {
      delete next.DATABASE_URL;
      if (database) Object.assign(next, databaseEnv(database));
    }
    process.env = next;
    try {
      const app = await createApp({ envFile: false });
      return new TestApp(app, database, database !== null && options.database === undefined);
    } catch (error) {
      if (database && options.database === undefined) await dropDatabase(database);
      throw error;
    } finally {
      process.env = { ...ORIGINAL_ENV };
    }
  }

  get http(): TestAgent {
    return request(this.app.getHttpServer());
  }

  async login(username: string, password: string, address = freshAddress()): Promise<TokenPair> {
    const res = await this.http
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', address)
      .send({ username, password });
    if (res.status !== 200)
      throw new Error(`login ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as TokenPair;
  }

  async adminToken(): Promise<string> {
    return (await this.login('admin', ADMIN_PASSWORD)).accessToken;
  }

  /** Creates a user through the API as admin; returns its id. */
  async createUser(
    adminToken: string,
    user: { username: string; role: string; clientId?: string; password?: string },
  ): Promise<string> {
    const res = await this.http
      .post('/api/v1/users')
      .auth(adminToken, { type: 'bearer' })
      .send({ password: USER_PASSWORD, ...user });
    if (res.status !== 201)
      throw new Error(`create user failed: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { id: string }).id;
  }

  async close(): Promise<void> {
    await this.app.close();
    if (this.ownsDatabase && this.database) await dropDatabase(this.database);
  }
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
