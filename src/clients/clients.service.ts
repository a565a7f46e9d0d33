import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AuthUser } from '../common/auth.decorators';
import { Page } from '../common/pagination';
import { pgCode } from '../common/transactions';
import { ApiError, notFound } from '../common/problem';
import { isStaff } from '../common/visibility';
import { Client } from './client.entity';
import { ClientDto, CreateClientDto, ListClientsQuery, UpdateClientDto } from './dto/clients.dto';

/** Escapes LIKE wildcards so a search for "O_B" means exactly that. */
export const likePrefix = (text: string) => `${text.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;

@Injectable()
export class ClientsService {
  constructor(
    @InjectRepository(Client) private readonly clients: Repository<Client>,
    private readonly db: DataSource,
  ) {}

  async create(dto: CreateClientDto): Promise<ClientDto> {
    try {
      const saved = await this.clients.save(
        this.clients.create({
          nationalId: dto.nationalId,
          firstName: dto.firstName,
          lastName: dto.lastName,
          address: dto.address ?? null,
          email: dto.email ?? null,
          phone: dto.phone ?? null,
        }),
      );
      return toClientDto(saved);
    } catch (error) {
      if (pgCode(error) === '23505') {
        throw new ApiError('CONFLICT', 'A client with this nationalId already exists');
      }
      throw error;
    }
  }

  async list(query: ListClientsQuery): Promise<Page<ClientDto>> {
    const qb = this.clients.createQueryBuilder('c');
    if (query.nationalId)
      qb.andWhere(`lower(c.national_id) LIKE :nid`, { nid: likePrefix(query.nationalId) });
    if (query.lastName)
      qb.andWhere(`lower(c.last_name) LIKE :ln`, { ln: likePrefix(query.lastName) });
    if (query.firstName)
      qb.andWhere(`lower(c.first_name) LIKE :fn`, { fn: likePrefix(query.firstName) });
    if (query.q) {
      qb.andWhere(
        `(lower(c.national_id) LIKE :q OR lower(c.last_name) LIKE :q OR lower(c.first_name) LIKE :q)`,
        { q: likePrefix(query.q) },
      );
    }
    const [rows, total] = await qb
      .orderBy('c.lastName', 'ASC')
      .addOrderBy('c.firstName', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .skip((query.page - 1) * query.limit)
      .take(query.limit)
      .getManyAndCount();
    return { items: rows.map(toClientDto), page: query.page, limit: query.limit, total };
  }

  /** Staff see every client; a customer only its own (anything else is 404). */
  async get(user: AuthUser, id: string): Promise<ClientDto> {
    return toClientDto(await this.findVisible(user, id));
  }

  async findVisible(user: AuthUser, id: string): Promise<Client> {
    const client =
      isStaff(user) || user.clientId === id ? await this.clients.findOneBy({ id }) : null;
    if (!client) throw notFound('Client');
    return client;
  }

  async update(id: string, dto: UpdateClientDto): Promise<ClientDto> {
    const client = await this.clients.findOneBy({ id });
    if (!client) throw notFound('Client');
    for (const field of ['firstName', 'lastName', 'address', 'email', 'phone'] as const) {
      if (dto[field] !== undefined) Object.assign(client, { [field]: dto[field] });
    }
    return toClientDto(await this.clients.save(client));
  }

  /** Refused while the client holds an account (open or closed: the ledger keeps its history). */
  async remove(id: string): Promise<void> {
    await this.db.transaction(async (em) => {
      const rows = await em.query<Array<{ id: string; holds: boolean; logins: boolean }>>(
        `SELECT c.id,
                EXISTS (SELECT 1 FROM account_holders h WHERE h.client_id = c.id) AS holds,
                EXISTS (SELECT 1 FROM users u WHERE u.client_id = c.id) AS logins
           FROM clients c WHERE c.id = $1 FOR UPDATE`,
        [id],
      );
      if (rows.length === 0) throw notFound('Client');
      if (rows[0].holds) {
        throw new ApiError(
          'CLIENT_HAS_ACCOUNTS',
          'The client holds accounts and cannot be deleted',
        );
      }
      if (rows[0].logins) {
        throw new ApiError(
          'CONFLICT',
          'A customer login is linked to this client; unlink or remove it first',
        );
      }
      await em.query(`DELETE FROM clients WHERE id = $1`, [id]);
    });
  }
}

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
