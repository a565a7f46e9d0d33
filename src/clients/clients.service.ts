import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { auditActor, AuthUser, isStaff } from '../auth';
import { Cursors, Page, pageStart, toPage, UUID_KEY } from '../common/pagination';
import { pgCode } from '../common/transactions';
import { ApiError, notFound } from '../common/problem';
import { Client } from './client.entity';
import { ClientRow, ClientsRepository } from './clients.repository';
import { ClientDto, CreateClientDto, ListClientsQuery, UpdateClientDto } from './dto/clients.dto';

@Injectable()
export class ClientsService {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly db: DataSource,
    private readonly cursors: Cursors,
    private readonly audit: AuditService,
  ) {}

  async create(user: AuthUser, dto: CreateClientDto): Promise<ClientDto> {
    try {
      return await this.db.transaction(async (em) => {
        const saved = await this.clients.insert(
          {
            nationalId: dto.nationalId,
            firstName: dto.firstName,
            lastName: dto.lastName,
            address: dto.address ?? null,
            email: dto.email ?? null,
            phone: dto.phone ?? null,
          },
          em,
        );
        await this.audit.record(em, {
          type: 'client.created',
          actor: auditActor(user),
          subject: { type: 'client', id: saved.id },
          data: {
            nationalId: saved.nationalId,
            firstName: saved.firstName,
            lastName: saved.lastName,
            address: saved.address,
            email: saved.email,
            phone: saved.phone,
          },
        });
        return toClientDto(saved);
      });
    } catch (error) {
      if (pgCode(error) === '23505') {
        throw new ApiError('CONFLICT', 'A client with this nationalId already exists');
      }
      throw error;
    }
  }

  /**
   * Clients by name (last, first, id), each filter a case-insensitive prefix
   * on its own index. Pages are read from the cursor's client on; the total
   * is counted up to COUNT_CAP.
   */
  async list(query: ListClientsQuery): Promise<Page<ClientDto>> {
    const scope = this.cursors.scope(
      'clients',
      query.nationalId,
      query.lastName,
      query.firstName,
      query.q,
    );
    const start = pageStart(query, scope, UUID_KEY);
    const { rows, total } = await this.clients.page(
      query,
      start.after,
      start.offset,
      query.limit + 1,
    );
    return toPage(rows, query, scope, total, (r) => r.id, fromRow);
  }

  /** Staff see every client; a customer only its own (anything else is 404). */
  async get(user: AuthUser, id: string): Promise<ClientDto> {
    return toClientDto(await this.findVisible(user, id));
  }

  async findVisible(user: AuthUser, id: string): Promise<Client> {
    const client = isStaff(user) || user.clientId === id ? await this.clients.findById(id) : null;
    if (!client) throw notFound('Client');
    return client;
  }

  async update(user: AuthUser, id: string, dto: UpdateClientDto): Promise<ClientDto> {
    return this.db.transaction(async (em) => {
      const client = await this.clients.findById(id, em);
      if (!client) throw notFound('Client');
      const changed: Record<string, unknown> = {};
      for (const field of ['firstName', 'lastName', 'address', 'email', 'phone'] as const) {
        if (dto[field] !== undefined) {
          Object.assign(client, { [field]: dto[field] });
          changed[field] = dto[field];
        }
      }
      const saved = await this.clients.save(client, em);
      await this.audit.record(em, {
        type: 'client.updated',
        actor: auditActor(user),
        subject: { type: 'client', id },
        data: changed,
      });
      return toClientDto(saved);
    });
  }

  /** Refused while the client holds an account (open or closed: the ledger keeps its history). */
  async remove(user: AuthUser, id: string): Promise<void> {
    await this.db.transaction(async (em) => {
      const client = await this.clients.lockForRemoval(em, id);
      if (!client) throw notFound('Client');
      if (client.holds) {
        throw new ApiError(
          'CLIENT_HAS_ACCOUNTS',
          'The client holds accounts and cannot be deleted',
        );
      }
      if (client.logins) {
        throw new ApiError(
          'CONFLICT',
          'A customer login is linked to this client; unlink or remove it first',
        );
      }
      await this.clients.delete(em, id);
      await this.audit.record(em, {
        type: 'client.deleted',
        actor: auditActor(user),
        subject: { type: 'client', id },
      });
    });
  }
}

const fromRow = (r: ClientRow): ClientDto => ({
  id: r.id,
  nationalId: r.national_id,
  firstName: r.first_name,
  lastName: r.last_name,
  address: r.address,
  email: r.email,
  phone: r.phone,
  createdAt: r.created_at,
});

export function toClientDto(c: Client): ClientDto {
  return {
    id: c.id,
    nationalId: c.nationalId,
    firstName: c.firstName,
    lastName: c.lastName,
    address: c.address,
    email: c.email,
    phone: c.phone,
    createdAt: c.createdAt,
  };
}
