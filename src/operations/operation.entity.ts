import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { Account } from '../accounts/account.entity';
import { User } from '../identity/user.entity';

export type OperationType = 'credit' | 'debit';
export type OperationKind = 'deposit' | 'withdrawal' | 'transfer' | 'reversal';
export const OPERATION_TYPES: OperationType[] = ['credit', 'debit'];
export const OPERATION_KINDS: OperationKind[] = ['deposit', 'withdrawal', 'transfer', 'reversal'];

/** One line of the append-only ledger (a trigger refuses UPDATE and DELETE). */
@Entity({ name: 'operations' })
@Unique('operations_seq_key', ['seq'])
@Unique('operations_reversal_of_key', ['reversalOf'])
@Check('operations_type_check', `type IN ('credit', 'debit')`)
@Check('operations_kind_check', `kind IN ('deposit', 'withdrawal', 'transfer', 'reversal')`)
@Check('operations_amount_check', `amount > 0`)
@Index('operations_account_created_seq_idx', ['accountId', 'createdAt', 'seq'])
// Bank-wide only: its predicate is one that only the bank-wide list states (see the migration
// AccountPagesOwnIndex), so an account's statements are planned on the index above.
@Index('operations_bank_created_seq_idx', ['createdAt', 'seq'], { where: 'seq > 0' })
@Index('operations_transfer_id_idx', ['transferId'])
export class Operation {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Ledger order: ascending per account in the order the row locks were taken. */
  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  seq!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @ManyToOne(() => Account, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'account_id', foreignKeyConstraintName: 'operations_account_id_fkey' })
  account?: Account;

  @Column({ type: 'varchar', length: 6 })
  type!: OperationType;

  @Column({ type: 'varchar', length: 10 })
  kind!: OperationKind;

  @Column({ type: 'bigint' })
  amount!: string;

  @Column({ name: 'balance_after', type: 'bigint' })
  balanceAfter!: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  description!: string | null;

  @Column({ name: 'transfer_id', type: 'uuid', nullable: true })
  transferId!: string | null;

  @Column({ name: 'reversal_of', type: 'uuid', nullable: true })
  reversalOf!: string | null;

  @OneToOne(() => Operation, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'reversal_of', foreignKeyConstraintName: 'operations_reversal_of_fkey' })
  reversed?: Operation;

  @Column({ name: 'performed_by', type: 'uuid' })
  performedBy!: string;

  @ManyToOne(() => User, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'performed_by', foreignKeyConstraintName: 'operations_performed_by_fkey' })
  performer?: User;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'clock_timestamp()' })
  createdAt!: Date;
}
