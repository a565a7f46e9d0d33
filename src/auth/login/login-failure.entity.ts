import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Failed logins, shared by every instance, counted in a sliding window. */
@Entity({ name: 'login_failures' })
@Index('login_failures_username_idx', ['username', 'createdAt'])
@Index('login_failures_ip_idx', ['ip', 'createdAt'])
export class LoginFailure {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'varchar', length: 150 })
  username!: string;

  @Column({ type: 'varchar', length: 64 })
  ip!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
