import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { auditActor, AuthUser, visibilityParam, Caller } from '../auth';
import { formatMoney } from '../common/money';
import {
  Cursors,
  CursorScope,
  Page,
  PageQuery,
  pageStart,
  toPage,
  UUID_KEY,
} from '../common/pagination';
import { ApiError, notFound, validationFailed } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { AuditService } from '../audit/audit.service';
import { ClientsService } from '../clients/clients.service';
import { AccountFilters, AccountRow, AccountsRepository } from './accounts.repository';
import { accountNumber } from './account-number';
import { requirePermission } from './account.errors';
import {
  AccountDto,
  ListAccountsQuery,
  OpenAccountDto,
  UpdateAccountDto,
} from './dto/accounts.dto';

/** Accounts: opening, holders, freezing, overdraft limits and closing; balances only move in the ledger. */
@Injectable()
export class AccountsService {
  constructor(
    private readonly db: DataSource,
    private readonly accounts: AccountsRepository,
    private readonly clients: ClientsService,
    private readonly config: AppConfig,
    private readonly cursors: Cursors,
    private readonly audit: AuditService,
  ) {}

  async open(user: AuthUser, dto: OpenAccountDto): Promise<AccountDto> {
    const id = await this.db.transaction(async (em) => {
      const found = await this.accounts.keepClients(em, dto.holderIds);
      const missing = dto.holderIds.filter((h) => !found.includes(h));
      if (missing.length > 0) {
        throw validationFailed(
          missing.map((m) => ({ field: 'holderIds', message: `no client has the id ${m}` })),
        );
      }
      const account = {
        number: accountNumber(await this.accounts.nextSerial(em)),
        currency: dto.currency ?? this.config.defaultCurrency,
        overdraftLimit: dto.overdraftLimit ?? 0n,
      };
      const id = await this.accounts.insert(em, account, dto.holderIds);
      await this.audit.record(em, {
        type: 'account.opened',
        actor: auditActor(user),
        subject: { type: 'account', id },
        data: {
          number: account.number,
          currency: account.currency,
          overdraftLimit: formatMoney(account.overdraftLimit),
          holderIds: dto.holderIds,
        },
      });
      return id;
    });
    return this.view(id);
  }

  /** Staff see every account; a customer the accounts its client holds. Oldest first. */
  async list(user: AuthUser, query: ListAccountsQuery): Promise<Page<AccountDto>> {
    const holders = [visibilityParam(user), query.holderId ?? null].filter((h) => h !== null);
    return this.page(
      query,
      { holders, status: query.status ?? null },
      this.cursors.scope('accounts', visibilityParam(user), query.holderId, query.status),
    );
  }

  /** The accounts a client holds; the client must be visible to the caller. */
  async listForClient(
    user: AuthUser,
    clientId: string,
    query: PageQuery,
  ): Promise<Page<AccountDto>> {
    await this.clients.findVisible(user, clientId);
    return this.page(
      query,
      { holders: [clientId], status: null },
      this.cursors.scope('client-accounts', clientId),
    );
  }

  /** GET /accounts/:id in one statement: the caller's session, then the account if visible to it. */
  async getFor(caller: Caller, id: string): Promise<AccountDto> {
    const row = await this.accounts.getForSession(caller.params, id);
    caller.settle(row);
    if (!row?.id) throw notFound('Account');
    return toAccountDto(row as AccountRow);
  }

  async update(user: AuthUser, id: string, dto: UpdateAccountDto): Promise<AccountDto> {
    await this.db.transaction(async (em) => {
      const account = await this.lock(em, id);
      requirePermission(account.status, 'settingsChanges');
      const limit = dto.overdraftLimit ?? BigInt(account.overdraft_limit);
      if (BigInt(account.balance) < -limit) {
        throw new ApiError(
          'CONFLICT',
          `The balance ${formatMoney(BigInt(account.balance))} is below the new overdraft limit`,
        );
      }
      await this.accounts.setStatusAndLimit(em, id, dto.status ?? account.status, limit);
      const data: { status?: string; overdraftLimit?: string } = {};
      if (dto.status !== undefined) data.status = dto.status;
      if (dto.overdraftLimit !== undefined) data.overdraftLimit = formatMoney(dto.overdraftLimit);
      await this.audit.record(em, {
        type: 'account.updated',
        actor: auditActor(user),
        subject: { type: 'account', id },
        data,
      });
    });
    return this.view(id);
  }

  async addHolder(user: AuthUser, id: string, clientId: string): Promise<AccountDto> {
    await this.db.transaction(async (em) => {
      const account = await this.lock(em, id);
      requirePermission(account.status, 'holderChanges');
      if ((await this.accounts.keepClients(em, [clientId])).length === 0) {
        throw validationFailed([
          { field: 'clientId', message: `no client has the id ${clientId}` },
        ]);
      }
      if (!(await this.accounts.addHolder(em, id, clientId)))
        throw new ApiError('CONFLICT', 'The client already holds this account');
      await this.audit.record(em, {
        type: 'account.holder.added',
        actor: auditActor(user),
        subject: { type: 'account', id },
        data: { clientId },
      });
    });
    return this.view(id);
  }

  async removeHolder(user: AuthUser, id: string, clientId: string): Promise<void> {
    await this.db.transaction(async (em) => {
      const account = await this.lock(em, id);
      requirePermission(account.status, 'holderChanges');
      const holders = await this.accounts.holderIds(em, id);
      if (!holders.includes(clientId)) throw notFound('Holder');
      if (holders.length === 1) {
        throw new ApiError('LAST_HOLDER', 'An account keeps at least one holder');
      }
      await this.accounts.removeHolder(em, id, clientId);
      await this.audit.record(em, {
        type: 'account.holder.removed',
        actor: auditActor(user),
        subject: { type: 'account', id },
        data: { clientId },
      });
    });
  }

  async close(user: AuthUser, id: string): Promise<AccountDto> {
    await this.db.transaction(async (em) => {
      const account = await this.lock(em, id);
      requirePermission(account.status, 'close');
      if (BigInt(account.balance) !== 0n) {
        throw new ApiError(
          'BALANCE_NOT_ZERO',
          `The balance is ${formatMoney(BigInt(account.balance))}; it must be 0.00 to close`,
        );
      }
      await this.accounts.close(em, id);
      await this.audit.record(em, {
        type: 'account.closed',
        actor: auditActor(user),
        subject: { type: 'account', id },
      });
    });
    return this.view(id);
  }

  /** An account as its holders and staff see it. */
  async view(id: string): Promise<AccountDto> {
    const account = await this.accounts.find(id);
    if (!account) throw notFound('Account');
    return toAccountDto(account);
  }

  /** The account, locked until the transaction ends; 404 when there is none. */
  private async lock(em: EntityManager, id: string): Promise<Omit<AccountRow, 'holders'>> {
    const account = await this.accounts.lock(em, id);
    if (!account) throw notFound('Account');
    return account;
  }

  private async page(
    query: PageQuery,
    filters: AccountFilters,
    scope: CursorScope,
  ): Promise<Page<AccountDto>> {
    const start = pageStart(query, scope, UUID_KEY);
    const { rows, total } = await this.accounts.page(
      filters,
      start.after,
      start.offset,
      query.limit + 1,
    );
    return toPage(rows, query, scope, total, (r) => r.id, toAccountDto);
  }
}

export function toAccountDto(r: AccountRow): AccountDto {
  return {
    id: r.id,
    number: r.number,
    currency: r.currency,
    balance: formatMoney(BigInt(r.balance)),
    overdraftLimit: formatMoney(BigInt(r.overdraft_limit)),
    status: r.status,
    holders: r.holders,
    openedAt: r.opened_at,
    closedAt: r.closed_at,
  };
}
