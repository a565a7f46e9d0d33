import { Injectable } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service';
import { AccountDto } from '../accounts/dto/accounts.dto';
import { Caller, AuthUser, visibilityParam } from '../auth';
import { formatMoney } from '../common/money';
import {
  Cursors,
  CursorScope,
  Page,
  PageQuery,
  pageStart,
  SEQ_KEY,
  toPage,
} from '../common/pagination';
import { notFound, validationFailed } from '../common/problem';
import { AppConfig } from '../config/app-config';
import {
  ListOperationsQuery,
  OperationDto,
  OperationFilters,
  parseDayOrInstant,
  StatementQuery,
} from './dto/operations.dto';
import { OperationRow, toOperationDto } from './operation-view';
import { StatementSlotsService } from './statement-slots.service';
import {
  OperationFilterValues,
  OperationsRepository,
  OperationsWindow,
  StatementBatch,
} from './operations.repository';

/** What a statement is of: the account and its days. */
export interface StatementHead {
  account: AccountDto;
  from: string;
  to: string;
}

/** A statement: its head, and its operations with the closing figures as text chunks. */
export interface StatementStream extends StatementHead {
  /**
   * The whole statement, written as it is read, batch by batch. It throws
   * StatementStopped when the reader's session or right to the account ends
   * between two batches.
   */
  chunks: AsyncIterable<string>;
  /** Frees the reader's statement slot: when the answer has ended, however it ended. */
  release: () => Promise<void>;
}

/** A statement stopped before its end: its reader may no longer read it. */
export class StatementStopped extends Error {
  readonly reason = 'access_ended';

  constructor() {
    super("The reader's session or right to the account ended mid-statement");
  }
}

@Injectable()
export class OperationsQueryService {
  constructor(
    private readonly operations: OperationsRepository,
    private readonly accounts: AccountsService,
    private readonly slots: StatementSlotsService,
    private readonly config: AppConfig,
    private readonly cursors: Cursors,
  ) {}

  /**
   * An account's operations, newest first, in one statement: the caller's
   * session, the account's visibility to it, the page and the total.
   */
  async listForAccount(
    caller: Caller,
    accountId: string,
    filters: OperationFilters,
  ): Promise<Page<OperationDto>> {
    const scope = this.cursors.scope('account-operations', accountId, ...filterKey(filters));
    const window = this.window(filters, scope);
    const values = range(filters);
    const rows = await this.operations.pageForAccount(caller, accountId, values, window);
    caller.settle(rows[0]);
    if (!rows[0].visible) throw notFound('Account');
    const items = rows.filter((r) => r.id) as Array<OperationRow & { total: string | null }>;
    const resume = await this.resume(accountId, values, window, items.length);
    return toPage(items, filters, scope, rows[0].total, (r) => r.seq, toOperationDto, resume);
  }

  /** Every operation, newest first; staff only. */
  async list(query: ListOperationsQuery): Promise<Page<OperationDto>> {
    const scope = this.cursors.scope('operations', query.accountId, ...filterKey(query));
    const window = this.window(query, scope);
    const values = range(query);
    const accountId = query.accountId ?? null;
    const { rows, total } = await this.operations.page(accountId, values, window);
    const resume = await this.resume(accountId, values, window, rows.length);
    return toPage(rows, query, scope, total, (r) => r.seq, toOperationDto, resume);
  }

  /**
   * A page with type or kind filters reads a bounded window of rows: when it
   * found no next row, it may still not be the last page.
   */
  private async resume(
    accountId: string | null,
    values: OperationFilterValues,
    window: OperationsWindow,
    found: number,
  ): Promise<string | null> {
    if (found > window.limit || (!values.type && !values.kind)) return null;
    return this.operations.scanWindowEnd(accountId, values, window);
  }

  /** Staff, or a holder of the operation's account. */
  async get(user: AuthUser, id: string): Promise<OperationDto> {
    const row = await this.operations.findVisible(visibilityParam(user), id);
    if (!row) throw notFound('Operation');
    return toOperationDto(row);
  }

  /**
   * Opening and closing balance, totals, and the operations oldest first, for
   * whole UTC days. The statement ends at the account's newest operation when
   * it starts, and is read in batches, each a query of its own: no connection
   * is held between batches and no more than one batch is in memory. The
   * closing balance and the totals follow the operations, summed from the
   * rows sent.
   */
  async statement(
    caller: Caller,
    accountId: string,
    query: StatementQuery,
    format: 'json' | 'csv',
  ): Promise<StatementStream> {
    // First, before any other query: a burst beyond the limit is refused without one.
    const release = await this.slots.claim(caller.userId);
    try {
      return { ...(await this.open(caller, accountId, query, format)), release };
    } catch (error) {
      await release();
      throw error;
    }
  }

  /**
   * What a statement is of, without reading it (a HEAD request's answer): the
   * account, visible to the caller, and its whole UTC days.
   */
  async statementHead(
    caller: Caller,
    accountId: string,
    query: StatementQuery,
  ): Promise<StatementHead> {
    const account = await this.accounts.getFor(caller, accountId);
    const from = query.from ?? new Date(account.openedAt).toISOString().slice(0, 10);
    const to = query.to ?? new Date().toISOString().slice(0, 10);
    if (from > to) throw rangeError();
    return { account, from, to };
  }

  private async open(
    caller: Caller,
    accountId: string,
    query: StatementQuery,
    format: 'json' | 'csv',
  ): Promise<Omit<StatementStream, 'release'>> {
    const { account, from, to } = await this.statementHead(caller, accountId, query);
    const start = parseDayOrInstant(from)!.start;
    const end = parseDayOrInstant(to)!.endExclusive;
    const bounds = await this.operations.statementBounds(accountId, start, end);
    const batches = this.batches(caller, accountId, start, bounds.last_seq, format);
    const opening = BigInt(bounds.opening ?? 0);
    const chunks =
      format === 'csv'
        ? csvChunks(batches)
        : jsonChunks({ account, from, to, openingBalance: formatMoney(opening) }, opening, batches);
    return { account, from, to, chunks };
  }

  /**
   * The statement's batches: smaller on the embedded database, which runs on
   * this thread. Each batch checks the reader again (statementBatch).
   */
  private async *batches(
    caller: Caller,
    accountId: string,
    start: Date,
    lastSeq: string | null,
    format: 'json' | 'csv',
  ): AsyncGenerator<StatementBatch> {
    if (lastSeq === null) return;
    const size = this.config.database.url ? SERVER_BATCH : EMBEDDED_BATCH;
    let after: string | null = null;
    for (;;) {
      const batch = await this.operations.statementBatch(
        caller,
        accountId,
        start,
        after,
        lastSeq,
        size,
        format,
      );
      if (!batch.allowed) throw new StatementStopped();
      if (batch.n === 0) return;
      yield batch;
      if (batch.n < size || batch.last_seq === lastSeq) return;
      after = batch.last_seq;
    }
  }

  private window(query: PageQuery, scope: CursorScope): OperationsWindow {
    const start = pageStart(query, scope, SEQ_KEY);
    return { afterSeq: start.after, offset: start.offset, limit: query.limit };
  }
}

/**
 * Operations per statement batch: on a server, enough that the round trip
 * (and the reader's check) is a small part of a batch's cost. A reader that
 * stops reading holds about two batches (one being written, one read ahead)
 * until STREAM_IDLE_TIMEOUT cuts it off. The embedded database runs on this
 * thread: its batches are smaller, so other requests wait less between them.
 */
const SERVER_BATCH = 5000;
const EMBEDDED_BATCH = 500;

/** The statement as JSON: its head, the operations as they come, then the closing figures. */
async function* jsonChunks(
  head: object,
  opening: bigint,
  batches: AsyncIterable<StatementBatch>,
): AsyncGenerator<string> {
  const open = JSON.stringify(head);
  yield `${open.slice(0, -1)},"operations":[`;
  let closing = opening;
  let credits = 0n;
  let debits = 0n;
  let first = true;
  for await (const batch of batches) {
    for (const body of batch.bodies) {
      yield first ? body : `,${body}`;
      first = false;
    }
    closing = BigInt(batch.closing!);
    credits += batch.credits;
    debits += batch.debits;
  }
  yield `],${JSON.stringify({
    closingBalance: formatMoney(closing),
    totalCredits: formatMoney(credits),
    totalDebits: formatMoney(debits),
  }).slice(1)}`;
}

/** The statement as CSV: the header line, then one line per operation. */
async function* csvChunks(batches: AsyncIterable<StatementBatch>): AsyncGenerator<string> {
  yield `${CSV_HEADER}\r\n`;
  for await (const batch of batches) for (const body of batch.bodies) yield `${body}\r\n`;
}

const CSV_HEADER = 'date,id,kind,type,description,counterparty,amount,balanceAfter';

/** What makes two lists of operations different lists, for their cursors. */
const filterKey = (f: OperationFilters) => [f.type, f.kind, f.from, f.to];

/** The filters' values; 400 when the date range is empty. */
function range(filters: OperationFilters): OperationFilterValues {
  const from = filters.from ? parseDayOrInstant(filters.from)!.start : null;
  const to = filters.to ? parseDayOrInstant(filters.to)!.endExclusive : null;
  if (from && to && from >= to) throw rangeError();
  return { type: filters.type ?? null, kind: filters.kind ?? null, from, to };
}

const rangeError = () =>
  validationFailed(
    [{ field: 'from', message: 'from must not be after to' }],
    'The date range is empty',
  );
