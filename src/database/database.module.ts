import { Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { ClientBase, PoolConfig } from 'pg';
import { DataSource, MigrationExecutor } from 'typeorm';
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
    const server = this.config.database.url !== undefined;
    // What each new connection runs first. Behind a transaction-mode pooler: nothing, there is
    // no session state (the pooler hands the server connection to others between transactions).
    // On a server: named statements switch to a generic plan, where `LIMIT $n` is costed as a
    // tenth of the table: on a large ledger that crosses jit_above_cost, and compiling the plan
    // costs a page far more than running it; JIT gains nothing on these short queries.
    // Embedded: a new connection reaches the PGlite session the pool's previous connection used,
    // where that connection's named prepared statements still exist: they are dropped, so pg can
    // prepare them again instead of failing with 42P05.
    const setup = !server ? 'DEALLOCATE ALL' : this.behindPooler ? null : 'SET jit = off';
    return {
      max: server ? this.config.database.poolSize : 1,
      idleTimeoutMillis,
      // pg-pool awaits this hook before it hands the connection out; @types/pg declares it void.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      onConnect: async (client) => {
        this.logErrorsOf(client);
        if (setup) await client.query(setup);
      },
    };
  }

  /**
   * Every connection keeps a listener for its 'error' event all its life.
   * pg-pool listens only while the connection is idle, TypeORM's query
   * runner only until the first error: a connection checked out between two
   * statements of a transaction whose server goes away (a failover, an
   * administrator's pg_terminate_backend) can report a second error, and an
   * 'error' event nobody listens for ends the process. Whoever uses the
   * connection still gets the error from its next statement.
   */
  private logErrorsOf(client: ClientBase): void {
    client.on('error', (error: Error) =>
      this.logger.warn({ err: { message: error.message } }, 'A database connection failed'),
    );
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
