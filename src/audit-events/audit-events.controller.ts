import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { ShownAuditEvent } from '../audit/audit-event';
import { AuditFilters, AuditRepository } from '../audit/audit.repository';
import { AuditService, ChainVerification } from '../audit/audit.service';
import { shownEvent } from '../audit/audit-event';
import { ApiProblems } from '../common/api-problems';
import {
  COUNT_CAP,
  Cursors,
  Page,
  PageOf,
  PageQuery,
  pageStart,
  SEQ_KEY,
  toPage,
} from '../common/pagination';
import { Role } from '../identity/role';
import { parseDayOrInstant } from '../operations/dto/operations.dto';
import {
  AuditEventDto,
  ChainVerificationDto,
  ListAuditEventsQuery,
  OwnEventsQuery,
  SecurityEventDto,
} from './dto/audit-events.dto';

/** The audit log, for admins: every change and authentication event, and the chain's check. */
@ApiTags('audit')
@Controller('api/v1/audit-events')
export class AuditEventsController {
  constructor(
    private readonly audit: AuditService,
    private readonly events: AuditRepository,
    private readonly cursors: Cursors,
  ) {}

  /** Newest first, by actor, subject, type and time. */
  @Auth(Role.Admin)
  @Get()
  @ApiOkResponse({ type: PageOf(AuditEventDto) })
  @ApiProblems([400, 'Invalid page, limit, cursor or filter'])
  list(@Query() query: ListAuditEventsQuery): Promise<Page<ShownAuditEvent>> {
    const filters: AuditFilters = {
      actorId: query.actorId,
      subjectId: query.subjectId,
      type: query.type,
      from: query.from ? parseDayOrInstant(query.from)!.start : undefined,
      to: query.to ? parseDayOrInstant(query.to)!.endExclusive : undefined,
    };
    return eventPage(this.events, this.cursors, 'audit-events', filters, query, shownEvent);
  }

  /** Recomputes the hash chain from its first event and says where it breaks, if it does. */
  @Auth(Role.Admin)
  @Get('verify')
  @ApiOkResponse({ type: ChainVerificationDto })
  verify(): Promise<ChainVerification> {
    return this.audit.verify();
  }
}

/** The caller's own security events. */
@ApiTags('auth')
@Controller('api/v1/auth')
export class OwnEventsController {
  constructor(
    private readonly events: AuditRepository,
    private readonly cursors: Cursors,
  ) {}

  /** The caller's security events (logins, failed logins, logouts, revocations, password and factor changes), newest first. */
  @Auth()
  @Get('events')
  @ApiOkResponse({ type: PageOf(SecurityEventDto) })
  @ApiProblems([400, 'Invalid page, limit or cursor'])
  list(@CurrentUser() user: AuthUser, @Query() query: OwnEventsQuery): Promise<Page<unknown>> {
    return eventPage(
      this.events,
      this.cursors,
      'auth-events',
      { securityOf: user.id },
      query,
      (row) => withoutChain(shownEvent(row)),
    );
  }
}

/** An event as its own user sees it: without the chain's hashes. */
function withoutChain(event: ShownAuditEvent): Omit<ShownAuditEvent, 'hash' | 'prevHash'> {
  const shown: Partial<ShownAuditEvent> = { ...event };
  delete shown.hash;
  delete shown.prevHash;
  return shown as Omit<ShownAuditEvent, 'hash' | 'prevHash'>;
}

async function eventPage<T>(
  events: AuditRepository,
  cursors: Cursors,
  list: string,
  filters: AuditFilters,
  query: PageQuery,
  map: Parameters<typeof toPage<Parameters<typeof shownEvent>[0], T>>[5],
): Promise<Page<T>> {
  const scope = cursors.scope(
    list,
    filters.actorId,
    filters.subjectId,
    filters.type,
    filters.from?.toISOString(),
    filters.to?.toISOString(),
    filters.securityOf,
  );
  const start = pageStart(query, scope, SEQ_KEY);
  const [rows, total] = await Promise.all([
    events.page(filters, start.after, start.offset, query.limit),
    query.cursor === undefined ? events.count(filters, COUNT_CAP) : Promise.resolve(null),
  ]);
  return toPage(rows, query, scope, total, (row) => row.pos, map);
}
