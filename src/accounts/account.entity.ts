import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Unique,
  CreateDateColumn,
} from 'typeorm';
import { Client } from '../clients/client.entity';
import { AccountStatus, STATUS_CHECK_SQL } from './account-status';

@Entity({ name: 'accounts' })
@Unique('accounts_number_key', ['number'])
@Check('accounts_status_check', STATUS_CHECK_SQL)
@Check('accounts_overdraft_limit_check', `overdraft_limit >= 0`)
@Check('accounts_balance_check', `balance >= -overdraft_limit`)
@Check('accounts_closed_check', `(status = '${AccountStatus.Closed}') = (closed_at IS NOT NULL)`)
@Index('accounts_opened_at_id_idx', ['openedAt', 'id'])
export class Account {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 20 })
  number!: string;

  @Column({ type: 'char', length: 3 })
  currency!: string;

  /** Cents; the pg driver returns bigint as a string. Changed only by the ledger. */
  @Column({ type: 'bigint', default: 0 })
  balance!: string;

  @Column({ name: 'overdraft_limit', type: 'bigint', default: 0 })
  overdraftLimit!: string;

  /** How many operations the account has: kept by every movement, so no list counts them. */
  @Column({ name: 'operation_count', type: 'bigint', default: 0 })
  operationCount!: string;

  @Column({ type: 'varchar', length: 16, default: AccountStatus.Active })
  status!: AccountStatus;

  @CreateDateColumn({ name: 'opened_at', type: 'timestamptz' })
  openedAt!: Date;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt!: Date | null;

  @OneToMany(() => AccountHolder, (h) => h.account)
  holders?: AccountHolder[];
}

@Entity({ name: 'account_holders' })
@Index('account_holders_client_id_idx', ['clientId'])
export class AccountHolder {
  @PrimaryColumn({
    name: 'account_id',
    type: 'uuid',
    primaryKeyConstraintName: 'account_holders_pkey',
  })
  accountId!: string;

  @PrimaryColumn({
    name: 'client_id',
    type: 'uuid',
    primaryKeyConstraintName: 'account_holders_pkey',
  })
  clientId!: string;

  @CreateDateColumn({ name: 'added_at', type: 'timestamptz' })
  addedAt!: Date;

  @ManyToOne(() => Account, (a) => a.holders, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id', foreignKeyConstraintName: 'account_holders_account_id_fkey' })
  account?: Account;

  @ManyToOne(() => Client, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'client_id', foreignKeyConstraintName: 'account_holders_client_id_fkey' })
  client?: Client;
}
