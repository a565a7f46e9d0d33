import { Logger } from '@nestjs/common';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { PasswordService, SessionsService } from '../auth';
import { Role } from '../identity/role';
import { User } from '../identity/user.entity';
import { newTestService, refusalOf } from '../test-utils/new-test-service';
import { ListUsersQuery } from './dto/users.dto';
import { AuditService } from '../audit/audit.service';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

const stored = (o: Partial<User> = {}): User =>
  Object.assign(new User(), {
    id: 'user-1',
    username: 'ada',
    passwordHash: '$argon2id$old',
    role: Role.Admin,
    clientId: null,
    disabled: false,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    lastLoginAt: null,
    ...o,
  });

function setup(env: Record<string, string> = {}) {
  const { sut, mocks } = newTestService(UsersService, { env });
  const users = mocks.get(UsersRepository);
  const passwords = mocks.get(PasswordService);
  passwords.hash.mockImplementation(async (password) => `hash of ${password}`);
  users.insert.mockImplementation(async (u) => stored({ ...u, id: 'user-new' }));
  users.save.mockImplementation(async (_em, u) => u);
  users.clientExists.mockResolvedValue(true);
  return { sut, mocks, users, passwords, sessions: mocks.get(SessionsService) };
}

const uniqueViolation = () =>
  new QueryFailedError('INSERT', [], Object.assign(new Error('duplicate'), { code: '23505' }));

describe('UsersService', () => {
  let warnings: jest.SpyInstance;
  beforeEach(() => {
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warnings.mockRestore());

  describe('the first admin', () => {
    let folder: string;
    beforeEach(() => {
      folder = mkdtempSync(join(tmpdir(), 'users-service-spec-'));
    });
    afterEach(() => rmSync(folder, { recursive: true, force: true }));

    it('creates no admin when any user exists', async () => {
      const { sut, users, passwords } = setup();
      users.isEmpty.mockResolvedValue(false);
      await sut.onApplicationBootstrap();
      expect(passwords.hash).not.toHaveBeenCalled();
      expect(users.insertFirstAdmin).not.toHaveBeenCalled();
    });

    it('creates the first admin with ADMIN_PASSWORD, and has no generated password to show', async () => {
      const { sut, users } = setup({ ADMIN_PASSWORD: 'correct-horse-battery' });
      users.isEmpty.mockResolvedValue(true);
      users.insertFirstAdmin.mockResolvedValue(true);
      await sut.onApplicationBootstrap();
      expect(users.insertFirstAdmin).toHaveBeenCalledWith('hash of correct-horse-battery');
      expect(sut.takeGeneratedAdminPassword()).toBeUndefined();
    });

    it('outside production, generates a password and hands it out once', async () => {
      const { sut, users, passwords } = setup();
      users.isEmpty.mockResolvedValue(true);
      users.insertFirstAdmin.mockResolvedValue(true);
      await sut.onApplicationBootstrap();

      const password = sut.takeGeneratedAdminPassword();
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(passwords.hash).toHaveBeenCalledWith(password);
      expect(sut.takeGeneratedAdminPassword()).toBeUndefined();
    });

    it('keeps no generated password when another instance created the admin first', async () => {
      const { sut, users } = setup();
      users.isEmpty.mockResolvedValue(true);
      users.insertFirstAdmin.mockResolvedValue(false);
      await sut.onApplicationBootstrap();
      expect(sut.takeGeneratedAdminPassword()).toBeUndefined();
    });

    it('in production, writes the generated password to an owner-only file in the admin’s transaction, and never logs it', async () => {
      const file = join(folder, 'admin-password');
      const { sut, users, passwords, mocks } = setup({
        NODE_ENV: 'production',
        ADMIN_PASSWORD_FILE: file,
      });
      users.isEmpty.mockResolvedValue(true);
      users.insertFirstAdmin.mockResolvedValue(true);
      await sut.onApplicationBootstrap();

      const password = passwords.hash.mock.calls[0][0];
      expect(readFileSync(file, 'utf8')).toBe(`${password}\n`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(users.insertFirstAdmin).toHaveBeenCalledWith(`hash of ${password}`, mocks.em);
      expect(JSON.stringify(warnings.mock.calls)).not.toContain(password);
      expect(JSON.stringify(warnings.mock.calls)).toContain(file);
      expect(sut.takeGeneratedAdminPassword()).toBeUndefined();
    });

    it('in production, writes no file when another instance created the admin first', async () => {
      const file = join(folder, 'admin-password');
      const { sut, users } = setup({ NODE_ENV: 'production', ADMIN_PASSWORD_FILE: file });
      users.isEmpty.mockResolvedValue(true);
      users.insertFirstAdmin.mockResolvedValue(false);
      await sut.onApplicationBootstrap();
      expect(existsSync(file)).toBe(false);
    });

    it('in production, removes the file again when the admin’s transaction does not commit', async () => {
      const file = join(folder, 'admin-password');
      const { sut, users, mocks } = setup({ NODE_ENV: 'production', ADMIN_PASSWORD_FILE: file });
      users.isEmpty.mockResolvedValue(true);
      users.insertFirstAdmin.mockResolvedValue(true);
      mocks.get(DataSource).transaction.mockImplementationOnce((async (
        work: (em: EntityManager) => Promise<unknown>,
      ) => {
        await work(mocks.em);
        throw new Error('commit failed');
      }) as never);

      await expect(sut.onApplicationBootstrap()).rejects.toThrow('commit failed');
      expect(existsSync(file)).toBe(false);
    });

    it('in production, never writes over an existing file', async () => {
      const file = join(folder, 'admin-password');
      writeFileSync(file, 'someone else’s\n');
      const { sut, users } = setup({ NODE_ENV: 'production', ADMIN_PASSWORD_FILE: file });
      users.isEmpty.mockResolvedValue(true);
      users.insertFirstAdmin.mockResolvedValue(true);
      await expect(sut.onApplicationBootstrap()).rejects.toThrow(`${file} exists`);
      expect(readFileSync(file, 'utf8')).toBe('someone else’s\n');
    });

    it('in production, refuses to start with no ADMIN_PASSWORD and nowhere to write one', async () => {
      const { sut, users } = setup({ NODE_ENV: 'production' });
      users.isEmpty.mockResolvedValue(true);
      await expect(sut.onApplicationBootstrap()).rejects.toThrow(/never logged/);
      expect(users.insertFirstAdmin).not.toHaveBeenCalled();
    });
  });

  describe('create', () => {
    const dto = { username: 'carol', password: 'a-long-password', role: Role.Customer };

    it('refuses a customer without a clientId with VALIDATION_FAILED, creating nothing', async () => {
      const { sut, users, passwords } = setup();
      const refusal = await refusalOf(sut.create(dto));
      expect(refusal).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(refusal.errors).toEqual([
        { field: 'clientId', message: 'a customer needs a clientId' },
      ]);
      expect(passwords.hash).not.toHaveBeenCalled();
      expect(users.insert).not.toHaveBeenCalled();
    });

    it('refuses staff with a clientId with VALIDATION_FAILED', async () => {
      const { sut, users } = setup();
      const refusal = await refusalOf(
        sut.create({ ...dto, role: Role.Teller, clientId: 'client-1' }),
      );
      expect(refusal).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(refusal.errors).toEqual([
        { field: 'clientId', message: 'a teller must not have a clientId' },
      ]);
      expect(users.insert).not.toHaveBeenCalled();
    });

    it('refuses a customer linked to a client that does not exist with VALIDATION_FAILED', async () => {
      const { sut, users, mocks } = setup();
      users.clientExists.mockResolvedValue(false);
      const refusal = await refusalOf(sut.create({ ...dto, clientId: 'client-x' }));
      expect(refusal).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(refusal.errors).toEqual([{ field: 'clientId', message: 'no client has this id' }]);
      expect(users.clientExists).toHaveBeenCalledWith(mocks.get(DataSource).manager, 'client-x');
      expect(users.insert).not.toHaveBeenCalled();
    });

    it('refuses a taken username with CONFLICT', async () => {
      const { sut, users } = setup();
      users.insert.mockRejectedValue(uniqueViolation());
      expect(await refusalOf(sut.create({ ...dto, clientId: 'client-1' }))).toMatchObject({
        status: 409,
        code: 'CONFLICT',
        detail: 'This username is taken',
      });
    });

    it('lets any other failure of the insert through', async () => {
      const { sut, users } = setup();
      const failure = new Error('connection lost');
      users.insert.mockRejectedValue(failure);
      await expect(sut.create({ ...dto, clientId: 'client-1' })).rejects.toBe(failure);
    });

    it('stores the password’s hash, never the password, and answers no hash', async () => {
      const { sut, users, mocks } = setup();
      const created = await sut.create({ ...dto, clientId: 'client-1' });
      expect(mocks.get(AuditService).record).toHaveBeenCalledWith(mocks.em, {
        type: 'user.created',
        actor: null,
        subject: { type: 'user', id: 'user-new' },
        data: { username: 'carol', role: Role.Customer, clientId: 'client-1' },
      });
      expect(users.insert).toHaveBeenCalledWith(
        {
          username: 'carol',
          passwordHash: 'hash of a-long-password',
          role: Role.Customer,
          clientId: 'client-1',
        },
        mocks.em,
      );
      expect(created).toMatchObject({ id: 'user-new', role: Role.Customer, clientId: 'client-1' });
      expect(created).not.toHaveProperty('passwordHash');
    });
  });

  describe('update', () => {
    it('answers NOT_FOUND for a user that does not exist', async () => {
      const { sut, users } = setup();
      users.lock.mockResolvedValue(null);
      expect(await refusalOf(sut.update('user-x', { disabled: true }))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(users.save).not.toHaveBeenCalled();
    });

    it('refuses to demote or disable the last active admin with CONFLICT', async () => {
      for (const dto of [{ role: Role.Teller }, { disabled: true }]) {
        const { sut, users, sessions, mocks } = setup();
        users.lock.mockResolvedValue(stored());
        users.anotherActiveAdmin.mockResolvedValue(false);
        expect(await refusalOf(sut.update('user-1', dto))).toMatchObject({
          status: 409,
          code: 'CONFLICT',
          detail: 'This is the last active admin; create another admin first',
        });
        expect(users.anotherActiveAdmin).toHaveBeenCalledWith(mocks.em, 'user-1');
        expect(users.save).not.toHaveBeenCalled();
        expect(sessions.revokeAll).not.toHaveBeenCalled();
      }
    });

    it('demotes an admin while another admin is active', async () => {
      const { sut, users } = setup();
      users.lock.mockResolvedValue(stored());
      users.anotherActiveAdmin.mockResolvedValue(true);
      expect(await sut.update('user-1', { role: Role.Teller })).toMatchObject({
        role: Role.Teller,
      });
      expect(users.save).toHaveBeenCalledTimes(1);
    });

    it('asks for another admin only when an active admin steps down', async () => {
      for (const [user, dto] of [
        [stored(), { password: 'a-new-password' }],
        [stored({ disabled: true }), { role: Role.Teller }],
        [stored({ role: Role.Teller }), { disabled: true }],
      ] as const) {
        const { sut, users } = setup();
        users.lock.mockResolvedValue(user);
        await sut.update('user-1', dto);
        expect(users.anotherActiveAdmin).not.toHaveBeenCalled();
        expect(users.save).toHaveBeenCalledTimes(1);
      }
    });

    it('checks a new role against the client link, inside the transaction', async () => {
      const { sut, users, mocks } = setup();
      users.lock.mockResolvedValue(stored({ role: Role.Teller }));
      const refusal = await refusalOf(sut.update('user-1', { role: Role.Customer }));
      expect(refusal).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(refusal.errors).toEqual([
        { field: 'clientId', message: 'a customer needs a clientId' },
      ]);

      users.lock.mockResolvedValue(stored({ role: Role.Teller }));
      users.clientExists.mockResolvedValue(false);
      expect(
        await refusalOf(sut.update('user-1', { role: Role.Customer, clientId: 'client-x' })),
      ).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(users.clientExists).toHaveBeenCalledWith(mocks.em, 'client-x');
      expect(users.save).not.toHaveBeenCalled();
    });

    it('refuses to unlink a customer from its client with VALIDATION_FAILED', async () => {
      const { sut, users } = setup();
      users.lock.mockResolvedValue(stored({ role: Role.Customer, clientId: 'client-1' }));
      expect(await refusalOf(sut.update('user-1', { clientId: null }))).toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      expect(users.save).not.toHaveBeenCalled();
    });

    it('ends every session of a user it disables, in the same transaction', async () => {
      const { sut, users, sessions, mocks } = setup();
      users.lock.mockResolvedValue(stored({ role: Role.Teller }));
      expect(await sut.update('user-1', { disabled: true })).toMatchObject({ disabled: true });
      expect(sessions.revokeAll).toHaveBeenCalledWith('user-1', 'user_disabled', null, mocks.em);
    });

    it('stores a reset password’s hash and ends every session of the user', async () => {
      const { sut, users, sessions, mocks } = setup();
      users.lock.mockResolvedValue(stored({ role: Role.Teller }));
      await sut.update('user-1', { password: 'a-new-password' });
      expect(users.save).toHaveBeenCalledWith(
        mocks.em,
        expect.objectContaining({ passwordHash: 'hash of a-new-password' }),
      );
      expect(sessions.revokeAll).toHaveBeenCalledWith('user-1', 'password_reset', null, mocks.em);
    });

    it('keeps the sessions and the password of a user whose role changes', async () => {
      const { sut, users, sessions, passwords } = setup();
      users.lock.mockResolvedValue(stored({ role: Role.Teller }));
      await sut.update('user-1', { role: Role.Admin });
      expect(users.save).toHaveBeenCalledWith(
        expect.anything(),
        expect.objectContaining({ role: Role.Admin, passwordHash: '$argon2id$old' }),
      );
      expect(passwords.hash).not.toHaveBeenCalled();
      expect(sessions.revokeAll).not.toHaveBeenCalled();
    });
  });

  it('answers NOT_FOUND for a user that does not exist', async () => {
    const { sut, users } = setup();
    users.findById.mockResolvedValue(null);
    expect(await refusalOf(sut.get('user-x'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('lists users of the role asked for, one row more than the page', async () => {
    const { sut, users } = setup();
    users.page.mockResolvedValue({ rows: [stored()], total: '1' });
    const query = Object.assign(new ListUsersQuery(), { role: Role.Admin, limit: 10, page: 2 });
    const page = await sut.list(query);
    expect(users.page).toHaveBeenCalledWith(Role.Admin, null, 10, 11);
    expect(page).toMatchObject({ total: 1, nextCursor: null, items: [{ id: 'user-1' }] });
  });
});
