import { Body, Controller, Get, Headers, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import Negotiator from 'negotiator';
import { Readable } from 'node:stream';
import { ApiProblems } from '../common/api-problems';
import { Auth, AuthUser, CurrentUser, Caller, CurrentCaller, SessionInQuery } from '../auth';
import { Page, PageOf } from '../common/pagination';
import { ParseIdPipe } from '../common/validation';
import { Idempotency, IdempotencyRequest, Replay } from '../idempotency/idempotency';
import { STAFF_ROLES } from '../identity/role';
import {
  ListOperationsQuery,
  MoneyMovementDto,
  OperationDto,
  OperationFilters,
  ReverseDto,
  StatementDto,
  StatementQuery,
  TransferDto,
  TransferResultDto,
} from './dto/operations.dto';
import { Idempotent, IN_USE, REUSED } from '../idempotency/idempotent.decorator';
import { LedgerService } from './ledger.service';
import { OperationsQueryService, StatementHead, StatementStream } from './operations-query.service';
import { statementAnswer } from './statement-answer';
import { AppConfig } from '../config/app-config';

@ApiTags('operations')
@ApiExtraModels(StatementDto)
@Controller('api/v1')
export class OperationsController {
  private readonly idleSeconds: number;

  constructor(
    private readonly ledger: LedgerService,
    private readonly queries: OperationsQueryService,
    config: AppConfig,
  ) {
    this.idleSeconds = config.statements.idleTimeoutSeconds;
  }

  /** Deposits money into an account. */
  @Auth(...STAFF_ROLES)
  @SessionInQuery()
  @Post('accounts/:id/deposits')
  @ApiCreatedResponse({ type: OperationDto, description: 'The credit' })
  @Idempotent()
  @ApiProblems(
    [400, 'Invalid amount'],
    [404, 'No such account'],
    [409, `ACCOUNT_NOT_ACTIVE, or ${IN_USE}`],
    [422, REUSED],
  )
  deposit(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: MoneyMovementDto,
    @Idempotency() idem: IdempotencyRequest,
  ): Promise<OperationDto | Replay> {
    return this.ledger.deposit(caller, id, dto, idem);
  }

  /** Withdraws money from an account, within its balance and overdraft limit. */
  @Auth(...STAFF_ROLES)
  @SessionInQuery()
  @Post('accounts/:id/withdrawals')
  @ApiCreatedResponse({ type: OperationDto, description: 'The debit' })
  @Idempotent()
  @ApiProblems(
    [400, 'Invalid amount'],
    [404, 'No such account'],
    [409, `ACCOUNT_NOT_ACTIVE, or ${IN_USE}`],
    [422, `INSUFFICIENT_FUNDS when balance + overdraftLimit < amount, or ${REUSED}`],
  )
  withdraw(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: MoneyMovementDto,
    @Idempotency() idem: IdempotencyRequest,
  ): Promise<OperationDto | Replay> {
    return this.ledger.withdraw(caller, id, dto, idem);
  }

  /**
   * Staff, or a customer from an account its client holds, to toAccountId or
   * toAccountNumber. Both legs or neither, each with its counterparty.
   */
  @Auth()
  @SessionInQuery()
  @Post('transfers')
  @ApiCreatedResponse({ type: TransferResultDto })
  @Idempotent()
  @ApiProblems(
    [
      400,
      'Invalid body: both or neither of toAccountId and toAccountNumber, a malformed number ' +
        '(length, check digit), or the same account twice',
    ],
    [404, 'No such fromAccountId (for a customer: or not held); for staff, no such toAccountId'],
    [
      409,
      'ACCOUNT_NOT_ACTIVE: the source, or the destination for staff and for a customer ' +
        `between its own accounts; or ${IN_USE}`,
    ],
    [
      422,
      'INSUFFICIENT_FUNDS; CURRENCY_MISMATCH (staff, or a customer between its own accounts); ' +
        'UNKNOWN_ACCOUNT_NUMBER (staff): toAccountNumber names no account; ' +
        'PAYEE_UNAVAILABLE: a customer paying an account it does not hold, once the source is ' +
        'active and covers the amount, whatever is wrong with the destination (none, not ' +
        `active, another currency); or ${REUSED}`,
    ],
  )
  transfer(
    @CurrentCaller() caller: Caller,
    @Body() dto: TransferDto,
    @Idempotency() idem: IdempotencyRequest,
  ): Promise<TransferResultDto | Replay> {
    return this.ledger.transfer(caller, dto, idem);
  }

  /** Compensates an operation; either leg of a transfer reverses both legs. */
  @Auth(...STAFF_ROLES)
  @Post('operations/:id/reverse')
  @ApiCreatedResponse({
    type: OperationDto,
    description: 'The compensating operation of the one given',
  })
  @Idempotent()
  @ApiProblems(
    [404, 'No such operation'],
    [409, `ALREADY_REVERSED, ACCOUNT_NOT_ACTIVE (closed), CONFLICT for a reversal, or ${IN_USE}`],
    [422, `INSUFFICIENT_FUNDS for the compensating debit, or ${REUSED}`],
  )
  reverse(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: ReverseDto,
    @Idempotency() idem: IdempotencyRequest,
  ): Promise<OperationDto | Replay> {
    return this.ledger.reverse(user, id, dto, idem);
  }

  /** Newest first. */
  @Auth()
  @SessionInQuery()
  @Get('accounts/:id/operations')
  @ApiOkResponse({ type: PageOf(OperationDto) })
  @ApiProblems([400, 'Invalid filter or paging'], [404, 'No such account (or not yours)'])
  listForAccount(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseIdPipe) id: string,
    @Query() filters: OperationFilters,
  ): Promise<Page<OperationDto>> {
    return this.queries.listForAccount(caller, id, filters);
  }

  /** JSON, or CSV with ?format=csv or Accept: text/csv (debits negative). */
  @Auth()
  @SessionInQuery()
  @Get('accounts/:id/statement')
  @ApiOkResponse({
    description: 'The statement (JSON), or a CSV attachment',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(StatementDto) } },
      'text/csv': {
        schema: {
          type: 'string',
          example:
            'date,id,kind,type,description,counterparty,amount,balanceAfter\r\n' +
            '2026-01-05T09:00:00.000Z,0b6c…,deposit,credit,Salary,,2500.00,2500.00\r\n' +
            '2026-01-06T12:30:00.000Z,4f1a…,transfer,debit,Rent,10000000025 Grace Hopper,-900.00,1600.00\r\n',
        },
      },
    },
  })
  @ApiProblems(
    [400, 'Invalid dates (YYYY-MM-DD, from <= to)'],
    [404, 'No such account (or not yours)'],
    [429, 'TOO_MANY_REQUESTS: STATEMENT_CONCURRENCY statements of yours are streaming already'],
  )
  async statement(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseIdPipe) id: string,
    @Query() query: StatementQuery,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Readable | string> {
    // ?format wins; else the Accept header, by its q-values (JSON when it prefers neither).
    const csv =
      query.format === 'csv' ||
      (query.format === undefined &&
        new Negotiator({ headers: { accept } }).mediaType(['application/json', 'text/csv']) ===
          'text/csv');
    // HEAD (which Fastify answers for every GET) has no body: the statement is not read at all.
    const head = reply.request.method === 'HEAD';
    const statement: StatementHead | StatementStream = head
      ? await this.queries.statementHead(caller, id, query)
      : await this.queries.statement(caller, id, query, csv ? 'csv' : 'json');
    if (csv) {
      void reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="statement-${statement.account.number}-${statement.from}-${statement.to}.csv"`,
        );
    } else {
      void reply.header('content-type', 'application/json; charset=utf-8');
    }
    if (!isStream(statement)) return '';
    return statementAnswer(reply.raw, statement, this.idleSeconds, String(reply.request.id));
  }

  /** Lists the operations of every account, newest first, with filters. */
  @Auth(...STAFF_ROLES)
  @Get('operations')
  @ApiOkResponse({ type: PageOf(OperationDto) })
  @ApiProblems([400, 'Invalid filter or paging'])
  list(@Query() query: ListOperationsQuery): Promise<Page<OperationDto>> {
    return this.queries.list(query);
  }

  /** Reads one operation: staff any, a customer one on its accounts. */
  @Auth()
  @Get('operations/:id')
  @ApiOkResponse({ type: OperationDto })
  @ApiProblems([400, 'Malformed id'], [404, 'No such operation (or not on your accounts)'])
  get(@CurrentUser() user: AuthUser, @Param('id', ParseIdPipe) id: string): Promise<OperationDto> {
    return this.queries.get(user, id);
  }
}

const isStream = (s: StatementHead | StatementStream): s is StatementStream => 'chunks' in s;
