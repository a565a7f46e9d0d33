import { Inject, Injectable } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, ValidateBy } from 'class-validator';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { validationFailed } from './problem';
import { DecimalInt } from './validation';

/** `page × limit` above this is refused: a deep OFFSET costs every row it skips. */
export const MAX_OFFSET_DEPTH = 10_000;
/** A total that only a scan of more rows than this could count is null. */
export const COUNT_CAP = 10_000;

/**
 * A list's paging: `page` (1-based, shallow pages only) or `cursor` (the
 * opaque nextCursor of the previous page, any depth at the same cost), and
 * `limit`.
 */
export class PageQuery {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    default: 1,
    example: 1,
    description: `1-based; page × limit at most ${MAX_OFFSET_DEPTH}. Deeper, page by cursor.`,
  })
  @IsOptional()
  @DecimalInt(1)
  @ValidateBy({
    name: 'shallowPage',
    validator: {
      validate: (page: unknown, args) => {
        const limit: unknown = (args?.object as PageQuery).limit;
        return (
          typeof page !== 'number' || typeof limit !== 'number' || page * limit <= MAX_OFFSET_DEPTH
        );
      },
      defaultMessage: () =>
        `page × limit must be at most ${MAX_OFFSET_DEPTH}; page deeper with cursor (each page's nextCursor)`,
    },
  })
  page?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20, example: 20 })
  @IsOptional()
  @DecimalInt(1, 100)
  limit: number = 20;

  @ApiPropertyOptional({
    type: String,
    maxLength: 512,
    description:
      "The previous page's nextCursor, for the page after it at any depth (not together with page).",
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @ValidateBy({
    name: 'cursorWithoutPage',
    validator: {
      validate: (_: unknown, args) => (args?.object as PageQuery).page === undefined,
      defaultMessage: () => 'give either page or cursor, not both',
    },
  })
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Null on a page reached by cursor. */
  page: number | null;
  limit: number;
  /** Null when only a scan of more than COUNT_CAP rows could count the items. */
  total: number | null;
  /** The cursor of the next page; null on the last one. */
  nextCursor: string | null;
}

/**
 * Which list a cursor belongs to: the list and a digest of its scope
 * (account, filters), and the server's cursor key that signs it.
 */
export interface CursorScope {
  list: string;
  digest: string;
  /** AppConfig.cursorKey. */
  key: Buffer;
}

/** Bytes of HMAC-SHA256 a cursor carries: 128 bits, beyond guessing. */
const TAG_BYTES = 16;

/**
 * Makes the scopes of lists under the server's cursor key, derived from the
 * token-signing secret: every instance with the same configuration reads the
 * others' cursors, and nobody without the secret can make one.
 */
@Injectable()
export class Cursors {
  private readonly key: Buffer;

  constructor(@Inject(AppConfig) config: Pick<AppConfig, 'cursorKey'>) {
    this.key = config.cursorKey;
  }

  /** The scope of a list with these filters; a cursor made in one scope is refused in another. */
  scope(list: string, ...filters: unknown[]): CursorScope {
    const digest = createHash('sha256')
      .update(JSON.stringify(filters, (_, v: unknown) => (v === undefined ? null : v)))
      .digest('base64url')
      .slice(0, 12);
    return { list, digest, key: this.key };
  }
}

const tag = (key: Buffer, payload: Buffer) =>
  createHmac('sha256', key).update(payload).digest().subarray(0, TAG_BYTES);

/**
 * The position after `key` (the last row's id or seq) in the list of
 * `scope`: [list, digest, key] as JSON, then its HMAC, in base64url.
 */
export function encodeCursor(scope: CursorScope, key: string): string {
  const payload = Buffer.from(JSON.stringify([scope.list, scope.digest, key]));
  return Buffer.concat([payload, tag(scope.key, payload)]).toString('base64url');
}

/**
 * The key a cursor holds, when the service issued it for this list and scope
 * and its key has the list's form; anything else is 400. The HMAC is checked
 * before anything in the cursor is read.
 */
export function decodeCursor(scope: CursorScope, cursor: string, keyForm: RegExp): string {
  const raw = Buffer.from(cursor, 'base64url');
  const payload = raw.subarray(0, Math.max(0, raw.length - TAG_BYTES));
  // Only the text the service wrote: base64url decoding skips characters it does not know.
  if (
    payload.length === 0 ||
    raw.toString('base64url') !== cursor ||
    !timingSafeEqual(raw.subarray(payload.length), tag(scope.key, payload))
  ) {
    throw badCursor('cursor is not a cursor of this API');
  }
  const parts = JSON.parse(payload.toString('utf8')) as [string, string, string];
  const [list, digest, key] = parts;
  if (list !== scope.list || digest !== scope.digest || !keyForm.test(key)) {
    throw badCursor('cursor belongs to another list, account or filters; start again without it');
  }
  return key;
}

const badCursor = (message: string) =>
  validationFailed([{ field: 'cursor', message }], 'The cursor is not valid for this list');

/** Where a page starts: after a cursor's key, or at an offset from the start of the list. */
export interface PageStart {
  /** The key of the row before the page (cursor), or null from the start. */
  after: string | null;
  offset: number;
}

export function pageStart(query: PageQuery, scope: CursorScope, keyForm: RegExp): PageStart {
  if (query.cursor !== undefined) {
    return { after: decodeCursor(scope, query.cursor, keyForm), offset: 0 };
  }
  return { after: null, offset: ((query.page ?? 1) - 1) * query.limit };
}

/**
 * A page from its rows, read with LIMIT limit + 1: one row more than shown
 * says that a next page exists, and the last shown row's key is its cursor.
 */
export function toPage<R, T>(
  rows: R[],
  query: PageQuery,
  scope: CursorScope,
  /** The exact total, or null (see cappedCountSql). */
  total: number | string | null,
  keyOf: (row: R) => string,
  map: (row: R) => T,
  /** Where a page that stopped reading early continues (a key), when it found no next row. */
  resumeAfter: string | null = null,
): Page<T> {
  const more = rows.length > query.limit;
  const shown = more ? rows.slice(0, query.limit) : rows;
  const next = more ? keyOf(shown[shown.length - 1]) : resumeAfter;
  return {
    items: shown.map(map),
    page: query.cursor === undefined ? (query.page ?? 1) : null,
    limit: query.limit,
    total: total === null ? null : Number(total),
    nextCursor: next === null ? null : encodeCursor(scope, next),
  };
}

/**
 * SQL: the number of rows `select` gives, or NULL when it gives more than
 * COUNT_CAP; `cap` is the placeholder of a parameter holding COUNT_CAP + 1.
 */
export const cappedCountSql = (select: string, cap: string) =>
  `SELECT CASE WHEN count(*) > ${COUNT_CAP} THEN NULL ELSE count(*) END AS total
     FROM (${select} LIMIT ${cap}) capped`;

export const UUID_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const SEQ_KEY = /^[1-9][0-9]{0,17}$/;

/** Swagger schema for a page of T. */
export function PageOf<T>(item: new () => T) {
  class PageDto {
    @ApiProperty({ type: [item] })
    items!: T[];
    @ApiProperty({
      type: 'integer',
      nullable: true,
      example: 1,
      description: 'Null on a page reached by cursor',
    })
    page!: number | null;
    @ApiProperty({ type: 'integer', example: 20 })
    limit!: number;
    @ApiProperty({
      type: 'integer',
      nullable: true,
      example: 57,
      description: `The exact number of matching items, or null when only a scan of more than ${COUNT_CAP} rows could count them (page by nextCursor until it is null)`,
    })
    total!: number | null;
    @ApiProperty({
      type: String,
      nullable: true,
      example: 'WyJvcGVyYXRpb25zIiwiYWJjIiwiNDIiXQ',
      description: 'Pass as ?cursor= for the next page; null on the last page',
    })
    nextCursor!: string | null;
  }
  Object.defineProperty(PageDto, 'name', { value: `${item.name.replace(/Dto$/, '')}Page` });
  return PageDto;
}
