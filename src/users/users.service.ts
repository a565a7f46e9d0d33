import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { DataSource, EntityManager } from 'typeorm';
import { auditActor, AuthUser, PasswordService, SessionsService } from '../auth';
import { AuditService } from '../audit/audit.service';
import { Cursors, Page, pageStart, toPage, UUID_KEY } from '../common/pagination';
import { pgCode } from '../common/transactions';
import { ApiError, notFound, validationFailed } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { writeOwnerOnlyFile } from '../config/private-files';
import { CreateUserDto, ListUsersQuery, UpdateUserDto, UserDto } from './dto/users.dto';
import { Role } from '../identity/role';
import { User } from '../identity/user.entity';
import { UsersRepository } from './users.repository';

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);
  private generatedAdminPassword?: string;

  constructor(
    private readonly users: UsersRepository,
    private readonly db: DataSource,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
    private readonly config: AppConfig,
    private readonly cursors: Cursors,
    private readonly audit: AuditService,
  ) {}

  /**
   * On an empty database, creates `admin` with ADMIN_PASSWORD or a random
   * password: shown once outside production; in production, where no
   * password is ever logged, written to an owner-only file the log names.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (!(await this.users.isEmpty())) return;
    const password = this.config.adminPassword ?? randomBytes(18).toString('base64url');
    const hash = await this.passwords.hash(password);
    if (this.config.adminPassword) {
      if (await this.users.insertFirstAdmin(hash)) {
        this.logger.warn('Created the first user "admin" with the password from ADMIN_PASSWORD');
      }
    } else if (this.config.isProduction) {
      const file = await this.insertFirstAdminWithFile(hash, password);
      if (file) {
        this.logger.warn(
          `Created the first user "admin" with a generated password, written to ${file} (readable by this user only)`,
        );
      }
    } else if (await this.users.insertFirstAdmin(hash)) {
      this.logger.warn('Created the first user "admin" with a generated password');
      this.generatedAdminPassword = password;
    }
  }

  /**
   * The first admin and the file with its password, both or neither: the file
   * is written (new, mode 0600) in the transaction that inserts the admin, and
   * removed if that does not commit. The file where it went, or null when
   * another instance created the admin first.
   */
  private async insertFirstAdminWithFile(hash: string, password: string): Promise<string | null> {
    const file = this.config.adminPasswordFile;
    if (!file) {
      throw new Error(
        'In production a generated admin password is written to a file, never logged: ' +
          'set ADMIN_PASSWORD, or ADMIN_PASSWORD_FILE (DATA_DIR is memory://)',
      );
    }
    let written = false;
    try {
      return await this.db.transaction(async (em) => {
        if (!(await this.users.insertFirstAdmin(hash, em))) return null;
        writeAdminPasswordFile(file, password);
        written = true;
        return file;
      });
    } catch (error) {
      if (written) rmSync(file, { force: true });
      throw error;
    }
  }

  /**
   * The password generated for the first admin by this process, once: the
   * caller prints it where a newcomer looks (see adminPasswordBanner).
   */
  takeGeneratedAdminPassword(): string | undefined {
    const password = this.generatedAdminPassword;
    this.generatedAdminPassword = undefined;
    return password;
  }

  /**
   * The user and its event in one transaction (TypeORM's save opened one
   * anyway). `by`: the admin; none from the command line or the demo seed.
   */
  async create(dto: CreateUserDto, by: AuthUser | null = null): Promise<UserDto> {
    const clientId = dto.clientId ?? null;
    await this.checkRoleAndClient(dto.role, clientId);
    const user = {
      username: dto.username,
      passwordHash: await this.passwords.hash(dto.password),
      role: dto.role,
      clientId,
    };
    try {
      return await this.db.transaction(async (em) => {
        const saved = await this.users.insert(user, em);
        await this.audit.record(em, {
          type: 'user.created',
          actor: by && auditActor(by),
          subject: { type: 'user', id: saved.id },
          data: { username: saved.username, role: saved.role, clientId: saved.clientId },
        });
        return toUserDto(saved);
      });
    } catch (error) {
      throw uniqueUsername(error);
    }
  }

  /** Oldest first, through the (created_at, id) index from the cursor's user on. */
  async list(query: ListUsersQuery): Promise<Page<UserDto>> {
    const scope = this.cursors.scope('users', query.role);
    const start = pageStart(query, scope, UUID_KEY);
    const { rows, total } = await this.users.page(
      query.role ?? null,
      start.after,
      start.offset,
      query.limit + 1,
    );
    return toPage(rows, query, scope, total, (u) => u.id, toUserDto);
  }

  async get(id: string): Promise<UserDto> {
    return toUserDto(await this.find(id));
  }

  async update(id: string, dto: UpdateUserDto, by: AuthUser | null = null): Promise<UserDto> {
    const passwordHash =
      dto.password !== undefined ? await this.passwords.hash(dto.password) : null;
    return this.db.transaction(async (em) => {
      const user = await this.users.lock(em, id);
      if (!user) throw notFound('User');
      const role = dto.role ?? user.role;
      const clientId = dto.clientId !== undefined ? dto.clientId : user.clientId;
      if (dto.role !== undefined || dto.clientId !== undefined) {
        await this.checkRoleAndClient(role, clientId, em);
      }
      const disabled = dto.disabled ?? user.disabled;
      if (user.role === Role.Admin && !user.disabled && (role !== Role.Admin || disabled)) {
        await this.ensureAnotherAdmin(em, user.id);
      }
      // What changed, never the password itself.
      const changed: Record<string, unknown> = {};
      if (role !== user.role) changed.role = role;
      if (disabled !== user.disabled) changed.disabled = disabled;
      if (clientId !== user.clientId) changed.clientId = clientId;
      if (passwordHash) changed.passwordReset = true;
      Object.assign(user, { role, clientId, disabled }, passwordHash ? { passwordHash } : {});
      const saved = await this.users.save(em, user);
      if (dto.disabled === true) await this.sessions.revokeAll(user.id, 'user_disabled', null, em);
      else if (passwordHash) await this.sessions.revokeAll(user.id, 'password_reset', null, em);
      await this.audit.record(em, {
        type: 'user.updated',
        actor: by && auditActor(by),
        subject: { type: 'user', id: user.id },
        data: changed,
      });
      return toUserDto(saved);
    });
  }

  private async find(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw notFound('User');
    return user;
  }

  /**
   * A customer is linked to exactly one existing client; staff to none.
   * Inside a transaction pass its manager: on a one-connection pool another
   * query would wait for ever.
   */
  private async checkRoleAndClient(
    role: Role,
    clientId: string | null,
    em: EntityManager = this.db.manager,
  ): Promise<void> {
    if (role === Role.Customer && !clientId) {
      throw validationFailed([{ field: 'clientId', message: 'a customer needs a clientId' }]);
    }
    if (role !== Role.Customer && clientId) {
      throw validationFailed([
        { field: 'clientId', message: `a ${role} must not have a clientId` },
      ]);
    }
    if (clientId && !(await this.users.clientExists(em, clientId))) {
      throw validationFailed([{ field: 'clientId', message: 'no client has this id' }]);
    }
  }

  /** Demoting or disabling an admin must leave another active one. */
  private async ensureAnotherAdmin(em: EntityManager, exceptId: string): Promise<void> {
    if (!(await this.users.anotherActiveAdmin(em, exceptId))) {
      throw new ApiError('CONFLICT', 'This is the last active admin; create another admin first');
    }
  }
}

export function toUserDto(user: User): UserDto {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    clientId: user.clientId,
    disabled: user.disabled,
    createdAt: user.createdAt,
    lastLoginAt: user.lastLoginAt,
  };
}

function uniqueUsername(error: unknown): unknown {
  if (pgCode(error) === '23505') {
    return new ApiError('CONFLICT', 'This username is taken');
  }
  return error;
}

function writeAdminPasswordFile(file: string, password: string): void {
  try {
    writeOwnerOnlyFile(file, `${password}\n`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Never over a file that may be someone else's; on an empty database it holds no password of it.
    throw new Error(
      `The first admin's generated password cannot be written: ${file} exists. ` +
        'The database has no user yet, so it is not its password: remove the file, ' +
        'or set ADMIN_PASSWORD or ADMIN_PASSWORD_FILE',
    );
  }
}

/** The generated admin password as a plain block of text that stands out from JSON log lines. */
export function adminPasswordBanner(password: string): string {
  const line = `  Generated admin password (shown only once): log in as "admin" with ${password}`;
  const rule = '='.repeat(line.length + 2);
  return `\n${rule}\n${line}\n${rule}\n\n`;
}
