import { CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, Column } from 'typeorm';

/**
 * One verification of payee a user made, shared by every instance and
 * counted in a sliding window (PAYEE_VERIFICATION_LIMIT); pruned once it is
 * older than the window.
 */
@Entity({ name: 'payee_verifications' })
@Index('payee_verifications_user_id_idx', ['userId', 'createdAt'])
export class PayeeVerification {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
