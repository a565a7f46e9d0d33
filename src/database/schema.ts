import type { PoolConfig } from 'pg';
import { DataSourceOptions } from 'typeorm';
import { LoginFailure, LoginSuccess, Session } from '../auth/entities';
import { Account, AccountHolder } from '../accounts/account.entity';
import { Client } from '../clients/client.entity';
import { IdempotencyKey } from '../idempotency/idempotency-key.entity';
import { Operation } from '../operations/operation.entity';
import { StatementSlot } from '../operations/statement-slot.entity';
import { PayeeVerification } from '../payees/payee-verification.entity';
import { User } from '../identity/user.entity';
import { Foundation1763800000000 } from './migrations/1763800000000-Foundation';
import { Banking1763900000000 } from './migrations/1763900000000-Banking';
import { LedgerAtScale1764000000000 } from './migrations/1764000000000-LedgerAtScale';
import { IdempotencyInTransaction1764100000000 } from './migrations/1764100000000-IdempotencyInTransaction';
import { CaseInsensitiveKeys1764200000000 } from './migrations/1764200000000-CaseInsensitiveKeys';
import { CheaperMoneyText1764300000000 } from './migrations/1764300000000-CheaperMoneyText';
import { StatementSlots1764400000000 } from './migrations/1764400000000-StatementSlots';
import { AccountPagesOwnIndex1764410000000 } from './migrations/1764410000000-AccountPagesOwnIndex';
import { KnownLoginAddresses1764420000000 } from './migrations/1764420000000-KnownLoginAddresses';
import { WiderAccountStatus1764430000000 } from './migrations/1764430000000-WiderAccountStatus';
import { PayeeVerifications1764440000000 } from './migrations/1764440000000-PayeeVerifications';
import { AuditEvents1764450000000 } from './migrations/1764450000000-AuditEvents';

export const ENTITIES = [
  Client,
  User,
  Session,
  LoginFailure,
  LoginSuccess,
  Account,
  AccountHolder,
  Operation,
  IdempotencyKey,
  StatementSlot,
  PayeeVerification,
];
export const MIGRATIONS = [
  Foundation1763800000000,
  Banking1763900000000,
  LedgerAtScale1764000000000,
  IdempotencyInTransaction1764100000000,
  CaseInsensitiveKeys1764200000000,
  CheaperMoneyText1764300000000,
  StatementSlots1764400000000,
  AccountPagesOwnIndex1764410000000,
  KnownLoginAddresses1764420000000,
  WiderAccountStatus1764430000000,
  PayeeVerifications1764440000000,
  AuditEvents1764450000000,
];

/**
 * The one set of TypeORM options, for the app, the CLI and the tests. `pool`
 * is passed to pg's Pool (size, idle timeout, connect hook).
 */
export function dataSourceOptions(url: string, pool: PoolConfig = { max: 1 }): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    extra: { connectionTimeoutMillis: 5000, ...pool },
  };
}
