import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The statements a user is streaming, one row per slot (1 to
 * STATEMENT_CONCURRENCY), shared by every instance. A slot is taken while
 * its lease runs: the instance streaming renews it, so a slot of an instance
 * that died frees itself when the lease ends.
 */
@Entity({ name: 'statement_slots' })
export class StatementSlot {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @PrimaryColumn({ type: 'smallint' })
  slot!: number;

  /** Who holds the slot now: a new id for every claim, so a late release frees nobody else's. */
  @Column({ type: 'uuid' })
  holder!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
