import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Role } from './role';

@Entity({ name: 'users' })
@Check('users_role_check', `role IN ('admin', 'teller', 'customer')`)
@Check('users_customer_client_check', `(role = 'customer') = (client_id IS NOT NULL)`)
@Index('users_username_key', { synchronize: false })
@Index('users_created_at_id_idx', ['createdAt', 'id'])
export class User {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 150 })
  username!: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ type: 'varchar', length: 16 })
  role!: Role;

  @Index('users_client_id_idx')
  @Column({ name: 'client_id', type: 'uuid', nullable: true })
  clientId!: string | null;

  /**
   * The foreign key to clients, named by entity so that this folder, which
   * auth, users and clients all import, imports none of them.
   */
  @ManyToOne('Client', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'client_id', foreignKeyConstraintName: 'users_client_id_fkey' })
  client?: unknown;

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt!: Date | null;
}
