import { QueryFailedError } from 'typeorm';
import { AuthUser } from '../auth';
import { newTestService, refusalOf } from '../test-utils/new-test-service';
import { CUSTOMER, TELLER } from '../test-utils/users';
import { Role } from '../identity/role';
import { Client } from './client.entity';
import { AuditService } from '../audit/audit.service';
import { ClientsRepository } from './clients.repository';
import { ClientsService } from './clients.service';
import { ListClientsQuery, UpdateClientDto } from './dto/clients.dto';

const teller = TELLER;
const admin: AuthUser = { ...teller, id: 'admin-1', role: Role.Admin };
const customer = CUSTOMER;

const stored = (o: Partial<Client> = {}): Client =>
  Object.assign(new Client(), {
    id: 'client-1',
    nationalId: 'NAT-1',
    firstName: 'Carol',
    lastName: 'Doe',
    address: '1 Main St',
    email: 'carol@example.com',
    phone: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    ...o,
  });

function setup() {
  const { sut, mocks } = newTestService(ClientsService);
  const clients = mocks.get(ClientsRepository);
  clients.insert.mockImplementation(async (c) => stored({ ...c, id: 'client-new' }));
  clients.save.mockImplementation(async (c) => c);
  return { sut, mocks, clients };
}

describe('ClientsService', () => {
  describe('create', () => {
    it('stores the client with null for every optional field not given', async () => {
      const { sut, clients, mocks } = setup();
      const created = await sut.create(teller, {
        nationalId: 'NAT-2',
        firstName: 'Bob',
        lastName: 'Roe',
      });
      expect(clients.insert).toHaveBeenCalledWith(
        {
          nationalId: 'NAT-2',
          firstName: 'Bob',
          lastName: 'Roe',
          address: null,
          email: null,
          phone: null,
        },
        mocks.em,
      );
      expect(created).toMatchObject({ id: 'client-new', nationalId: 'NAT-2', email: null });
      expect(mocks.get(AuditService).record).toHaveBeenCalledWith(
        mocks.em,
        expect.objectContaining({
          type: 'client.created',
          actor: { id: teller.id, username: teller.username, role: teller.role },
          subject: { type: 'client', id: 'client-new' },
        }),
      );
    });

    it('refuses a nationalId another client has with CONFLICT', async () => {
      const { sut, clients } = setup();
      clients.insert.mockRejectedValue(
        new QueryFailedError('INSERT', [], Object.assign(new Error('dup'), { code: '23505' })),
      );
      expect(
        await refusalOf(sut.create(teller, { nationalId: 'NAT-1', firstName: 'A', lastName: 'B' })),
      ).toMatchObject({
        status: 409,
        code: 'CONFLICT',
        detail: 'A client with this nationalId already exists',
      });
    });

    it('lets any other failure of the insert through', async () => {
      const { sut, clients } = setup();
      const failure = new QueryFailedError(
        'INSERT',
        [],
        Object.assign(new Error('x'), { code: '23514' }),
      );
      clients.insert.mockRejectedValue(failure);
      await expect(
        sut.create(teller, { nationalId: 'N', firstName: 'A', lastName: 'B' }),
      ).rejects.toBe(failure);
    });
  });

  describe('visibility', () => {
    it('shows staff any client', async () => {
      for (const user of [teller, admin]) {
        const { sut, clients } = setup();
        clients.findById.mockResolvedValue(stored({ id: 'client-7' }));
        expect(await sut.get(user, 'client-7')).toMatchObject({ id: 'client-7' });
        expect(clients.findById).toHaveBeenCalledWith('client-7');
      }
    });

    it('shows a customer its own client', async () => {
      const { sut, clients } = setup();
      clients.findById.mockResolvedValue(stored());
      expect(await sut.get(customer, 'client-1')).toMatchObject({
        id: 'client-1',
        nationalId: 'NAT-1',
      });
    });

    it('answers a customer NOT_FOUND for any other client, without reading it', async () => {
      const { sut, clients } = setup();
      clients.findById.mockResolvedValue(stored({ id: 'client-7' }));
      expect(await refusalOf(sut.get(customer, 'client-7'))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(await refusalOf(sut.findVisible(customer, 'client-7'))).toMatchObject({
        code: 'NOT_FOUND',
      });
      expect(clients.findById).not.toHaveBeenCalled();
    });

    it('answers NOT_FOUND for a client that does not exist', async () => {
      const { sut, clients } = setup();
      clients.findById.mockResolvedValue(null);
      expect(await refusalOf(sut.get(teller, 'client-x'))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
    });
  });

  describe('update', () => {
    it('answers NOT_FOUND for a client that does not exist', async () => {
      const { sut, clients } = setup();
      clients.findById.mockResolvedValue(null);
      expect(await refusalOf(sut.update(teller, 'client-x', { firstName: 'X' }))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(clients.save).not.toHaveBeenCalled();
    });

    it('changes only the fields given, clears a field given as null, and never the nationalId', async () => {
      const { sut, clients, mocks } = setup();
      clients.findById.mockResolvedValue(stored());
      const dto = {
        lastName: 'Smith',
        email: null,
        nationalId: 'NAT-9',
      } as unknown as UpdateClientDto;
      const updated = await sut.update(teller, 'client-1', dto);
      expect(clients.save).toHaveBeenCalledWith(
        expect.objectContaining({
          nationalId: 'NAT-1',
          firstName: 'Carol',
          lastName: 'Smith',
          address: '1 Main St',
          email: null,
        }),
        mocks.em,
      );
      expect(updated).toMatchObject({ nationalId: 'NAT-1', lastName: 'Smith', email: null });
      expect(mocks.get(AuditService).record).toHaveBeenCalledWith(mocks.em, {
        type: 'client.updated',
        actor: { id: teller.id, username: teller.username, role: teller.role },
        subject: { type: 'client', id: 'client-1' },
        data: { lastName: 'Smith', email: null },
      });
    });
  });

  describe('remove', () => {
    it('answers NOT_FOUND for a client that does not exist', async () => {
      const { sut, clients } = setup();
      clients.lockForRemoval.mockResolvedValue(undefined);
      expect(await refusalOf(sut.remove(teller, 'client-x'))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(clients.delete).not.toHaveBeenCalled();
    });

    it('refuses to delete a client that holds accounts with CLIENT_HAS_ACCOUNTS, whatever else', async () => {
      for (const logins of [false, true]) {
        const { sut, clients } = setup();
        clients.lockForRemoval.mockResolvedValue({ holds: true, logins });
        expect(await refusalOf(sut.remove(teller, 'client-1'))).toMatchObject({
          status: 409,
          code: 'CLIENT_HAS_ACCOUNTS',
        });
        expect(clients.delete).not.toHaveBeenCalled();
      }
    });

    it('refuses to delete a client a customer login is linked to with CONFLICT', async () => {
      const { sut, clients } = setup();
      clients.lockForRemoval.mockResolvedValue({ holds: false, logins: true });
      expect(await refusalOf(sut.remove(teller, 'client-1'))).toMatchObject({
        status: 409,
        code: 'CONFLICT',
        detail: 'A customer login is linked to this client; unlink or remove it first',
      });
      expect(clients.delete).not.toHaveBeenCalled();
    });

    it('deletes a client with no accounts and no login, under its lock', async () => {
      const { sut, clients, mocks } = setup();
      clients.lockForRemoval.mockResolvedValue({ holds: false, logins: false });
      await sut.remove(teller, 'client-1');
      expect(clients.lockForRemoval).toHaveBeenCalledWith(mocks.em, 'client-1');
      expect(clients.delete).toHaveBeenCalledWith(mocks.em, 'client-1');
      expect(mocks.get(AuditService).record).toHaveBeenCalledWith(
        mocks.em,
        expect.objectContaining({
          type: 'client.deleted',
          subject: { type: 'client', id: 'client-1' },
        }),
      );
    });
  });

  it('lists clients with the filters asked for, one row more than the page', async () => {
    const { sut, clients } = setup();
    clients.page.mockResolvedValue({ rows: [], total: '0' });
    const query = Object.assign(new ListClientsQuery(), { lastName: 'Do', q: 'ca', limit: 5 });
    expect(await sut.list(query)).toMatchObject({ items: [], total: 0, page: 1, nextCursor: null });
    expect(clients.page).toHaveBeenCalledWith(query, null, 0, 6);
  });
});
