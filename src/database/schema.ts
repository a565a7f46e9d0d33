import { DataSourceOptions } from 'typeorm';
import { LoginFailure } from '../auth/login-attempt.entity';
import { Session } from '../auth/session.entity';
import { Client } from '../clients/client.entity';
import { User } from '../users/user.entity';
import { Foundation1763800000000 } from './migrations/1763800000000-Foundation';

export const ENTITIES = [Client, User, Session, LoginFailure];
export const MIGRATIONS = [Foundation1763800000000];

/** The one set of TypeORM options, for the app, the CLI and the tests. */
export function dataSourceOptions(url: string, poolSize: number): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    extra: { max: poolSize, connectionTimeoutMillis: 5000 },
  };
}
