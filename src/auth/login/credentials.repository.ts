import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { User } from '../../identity/user.entity';
import { USERNAME_KEY_SQL, usernameKey } from '../../identity/username';

/**
 * What logging in and changing a password read and write of a user, through
 * TypeORM's Repository: auth's own view of the users table (the users
 * module, which manages accounts of users, depends on auth, not the reverse).
 */
@Injectable()
export class CredentialsRepository {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  /** The user whose name matches in any letter case (see usernameKey), or null. */
  findByUsername(username: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('u')
      .where(`${USERNAME_KEY_SQL('u.username')} = :key`, { key: usernameKey(username) })
      .getOne();
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  async touchLastLogin(id: string): Promise<void> {
    await this.users.update({ id }, { lastLoginAt: () => 'now()' });
  }

  /** Sets the hash, on `em`'s connection (in its transaction) when given. */
  async setPasswordHash(
    id: string,
    passwordHash: string,
    em: EntityManager = this.users.manager,
  ): Promise<void> {
    await em.update(User, { id }, { passwordHash });
  }
}
