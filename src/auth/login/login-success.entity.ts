import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Where each username last logged in successfully, and when: its known addresses. */
@Entity({ name: 'login_successes' })
export class LoginSuccess {
  @PrimaryColumn({
    type: 'varchar',
    length: 150,
    primaryKeyConstraintName: 'login_successes_pkey',
  })
  username!: string;

  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'login_successes_pkey' })
  ip!: string;

  @Column({ name: 'last_success_at', type: 'timestamptz', default: () => 'now()' })
  lastSuccessAt!: Date;
}
