import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'clients' })
@Index('clients_national_id_key', { synchronize: false })
// lower(...) text_pattern_ops indexes for case-insensitive prefix search (see the Banking migration).
@Index('clients_last_name_prefix_idx', { synchronize: false })
@Index('clients_first_name_prefix_idx', { synchronize: false })
@Index('clients_national_id_prefix_idx', { synchronize: false })
@Index('clients_name_id_idx', ['lastName', 'firstName', 'id'])
export class Client {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'national_id', type: 'varchar', length: 32 })
  nationalId!: string;

  @Column({ name: 'first_name', type: 'varchar', length: 100 })
  firstName!: string;

  @Column({ name: 'last_name', type: 'varchar', length: 100 })
  lastName!: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  address!: string | null;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  phone!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
