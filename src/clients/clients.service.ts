import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AuthUser } from '../auth/auth.decorators';
import {
  cappedCountSql,
  COUNT_CAP,
  cursorScope,
  Page,
  pageStart,
  toPage,
  UUID_KEY,
} from '../common/pagination';
import { SqlParams } from '../common/sql';
import { pgCode } from '../common/transactions';
import { ApiError, notFound } from '../common/problem';
import { isStaff } from '../auth/visibility';
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

  /**
   * Clients by name (last, first, id), each filter a case-insensitive prefix
   * on its own index. Pages are read from the cursor's client on; the total
   * is counted up to COUNT_CAP.
   */
  async list(query: ListClientsQuery): Promise<Page<ClientDto>> {
    const scope = cursorScope(
      'clients',
      query.nationalId,
      query.lastName,
      query.firstName,
      query.q,
    );
    const start = pageStart(query, scope, UUID_KEY);
    const p = new SqlParams();
    const where: string[] = [];
    if (query.nationalId)
      where.push(`lower(c.national_id) LIKE ${p.add(likePrefix(query.nationalId))}`);
    if (query.lastName) where.push(`lower(c.last_name) LIKE ${p.add(likePrefix(query.lastName))}`);
    if (query.firstName)
      where.push(`lower(c.first_name) LIKE ${p.add(likePrefix(query.firstName))}`);
    if (query.q) {
      const q = p.add(likePrefix(query.q));
      where.push(
        `(lower(c.national_id) LIKE ${q} OR lower(c.last_name) LIKE ${q} OR lower(c.first_name) LIKE ${q})`,
      );
    }
    const filtered = where.length > 0 ? where.join(' AND ') : 'true';
    const count = new SqlParams(p.values);
    // After the cursor's client; from the start, no bound at all (the scan would start from it).
    let after = '';
    if (start.after) {
      const id = p.add(start.after, 'uuid');
      after = ` AND (c.last_name, c.first_name, c.id) > (
        (SELECT last_name FROM clients WHERE id = ${id}), (SELECT first_name FROM clients WHERE id = ${id}), ${id})`;
    }
    const [rows, [{ total }]] = await Promise.all([
      this.db.query<ClientRow[]>(
        `SELECT c.* FROM clients c
          WHERE ${filtered}${after}
          ORDER BY c.last_name, c.first_name, c.id LIMIT ${p.add(query.limit + 1)} OFFSET ${p.add(start.offset)}`,
        p.values,
      ),
      this.db.query<Array<{ total: string }>>(
        cappedCountSql(`SELECT 1 FROM clients c WHERE ${filtered}`, count.add(COUNT_CAP + 1)),
        count.values,
      ),
    ]);
    return toPage(rows, query, scope, total, (r) => r.id, fromRow);
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

interface ClientRow {
  id: string;
  national_id: string;
  first_name: string;
  last_name: string;
  address: string | null;
  email: string | null;
  phone: string | null;
  created_at: Date;
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
