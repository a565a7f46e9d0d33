import { Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { PoolConfig } from 'pg';
import { DataSource } from 'typeorm';
import { MigrationExecutor } from 'typeorm/migration/MigrationExecutor';
import { AppConfig } from '../config/app-config';
import { behindTransactionPooler } from '../common/prepared';
import { EmbeddedPostgres } from './embedded-postgres';

/** Marks the TypeORM options of a data source behind a transaction-mode pooler. */
const BEHIND_POOLER = Symbol('behind a transaction-mode pooler');
import { dataSourceOptions } from './schema';

/** Where the database is: DATABASE_URL, or an embedded PostgreSQL started here. */
@Injectable()
export class DatabaseLocation implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private embedded?: EmbeddedPostgres;

  constructor(
    private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Whether the server is reached through a transaction-mode pooler (DATABASE_POOLER). */
  get behindPooler(): boolean {
    return this.config.database.pooler === 'transaction';
  }

  /** pg Pool settings: the configured size on a server, one connection to the embedded database. */
  get pool(): PoolConfig {
    const idleTimeoutMillis = this.config.database.idleTimeoutSeconds * 1000;
    if (this.config.database.url && this.behindPooler) {
      // No session state: the pooler hands the server connection to others between transactions.
      return { max: this.config.database.poolSize, idleTimeoutMillis };
    }
    if (this.config.database.url) {
      return {
        max: this.config.database.poolSize,
        idleTimeoutMillis,
        // Named statements switch to a generic plan, where `LIMIT $n` is costed as a tenth of
        // the table: on a large ledger that crosses jit_above_cost, and compiling the plan
        // costs a page 20-80 ms instead of under one. JIT gains nothing on these short queries.
        // eslint-disable-next-line @typescript-eslint/no-misused-promises
        onConnect: async (client) => {
          await client.query('SET jit = off');
        },
      };
    }
    return {
      max: 1,
      idleTimeoutMillis,
      // A new connection reaches the PGlite session the pool's previous connection used, where
      // that connection's named prepared statements still exist: drop them, so pg can prepare
      // them again on this connection instead of failing with 42P05.
      // pg-pool awaits this hook before it hands the connection out; @types/pg declares it void.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      onConnect: async (client) => {
        await client.query('DEALLOCATE ALL');
      },
    };
  }

  async url(): Promise<string> {
    if (this.config.database.url) return this.config.database.url;
    if (!this.embedded) {
      this.embedded = await EmbeddedPostgres.start(this.config.database.dataDir);
      this.logger.log(
        `Embedded PostgreSQL (PGlite) with data in ${this.config.database.dataDir}; set DATABASE_URL for a PostgreSQL server`,
      );
    }
    return this.embedded.url;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.embedded.stop();
    this.embedded = undefined;
  }
}

/**
 * Applies pending migrations, all in one transaction that first takes an
 * advisory lock: instances that start together take turns, and a lock of an
 * instance that dies is released with its connection. (A session-level lock
 * would not survive a transaction-mode pooler.)
 */
export async function migrate(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.startTransaction();
    await runner.query(`SELECT pg_advisory_xact_lock(hashtext('bank-api:migrations'))`);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'none';
    await executor.executePendingMigrations();
    await runner.commitTransaction();
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}

@Module({ providers: [DatabaseLocation], exports: [DatabaseLocation] })
class DatabaseLocationModule {}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [DatabaseLocationModule],
      inject: [DatabaseLocation],
      useFactory: async (location: DatabaseLocation) => ({
        ...dataSourceOptions(await location.url(), location.pool),
        retryAttempts: 5,
        retryDelay: 2000,
        [BEHIND_POOLER]: location.behindPooler,
      }),
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        if ((options as unknown as Record<symbol, boolean>)[BEHIND_POOLER])
          behindTransactionPooler(dataSource);
        await migrate(dataSource);
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
