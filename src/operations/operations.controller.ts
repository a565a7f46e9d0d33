import { Body, Controller, Get, Headers, Param, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiProblems } from '../common/api-problems';
import { Auth, AuthUser, CurrentUser } from '../common/auth.decorators';
import { Page, PageOf } from '../common/pagination';
import { ParseIdPipe } from '../common/validation';
import { Idempotency, IdempotencyRequest } from '../idempotency/idempotency';
import { Role } from '../users/role';
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
import { ApiIdempotent } from './idempotent.decorator';
import { LedgerService } from './ledger.service';
import { OperationsQueryService, statementCsv } from './operations-query.service';

const STAFF = [Role.Admin, Role.Teller];

@ApiTags('operations')
@Controller('api/v1')
export class OperationsController {
  constructor(
    private readonly ledger: LedgerService,
    private readonly queries: OperationsQueryService,
  ) {}

  @Auth(...STAFF)
  @Post('accounts/:id/deposits')
  @ApiCreatedResponse({ type: OperationDto, description: 'The credit' })
  @ApiIdempotent()
  @ApiProblems([400, 'Invalid amount'], [404, 'No such account'], [409, 'ACCOUNT_NOT_ACTIVE'])
  deposit(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: MoneyMovementDto,
    @Idempotency() idem: IdempotencyRequest,
  ): Promise<OperationDto> {
    return this.ledger.deposit(user, id, dto, idem);
  }

  @Auth(...STAFF)
  @Post('accounts/:id/withdrawals')
  @ApiCreatedResponse({ type: OperationDto, description: 'The debit' })
  @ApiIdempotent()
  @ApiProblems(
    [400, 'Invalid amount'],
    [404, 'No such account'],
    [409, 'ACCOUNT_NOT_ACTIVE'],
    [422, 'INSUFFICIENT_FUNDS: balance + overdraftLimit < amount'],
  )
  withdraw(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: MoneyMovementDto,
    @Idempotency() idem: IdempotencyRequest,
  ): Promise<OperationDto> {
    return this.ledger.withdraw(user, id, dto, idem);
  }

  /** Staff, or a customer from an account its client holds. Both legs or neither. */
  @Auth()
  @Post('transfers')
  @ApiCreatedResponse({ type: TransferResultDto })
  @ApiIdempotent()
  @ApiProblems(
    [400, 'Invalid body, or the same account twice'],
    [404, 'No such account (or, for a customer, fromAccountId not held)'],
    [409, 'ACCOUNT_NOT_ACTIVE'],
    [422, 'INSUFFICIENT_FUNDS or CURRENCY_MISMATCH'],
  )
  transfer(
    @CurrentUser() user: AuthUser,
    @Body() dto: TransferDto,
    @Idempotency() idem: IdempotencyRequest,
  ): Promise<TransferResultDto> {
    return this.ledger.transfer(user, dto, idem);
  }

  /** Compensates an operation; either leg of a transfer reverses both legs. */
  @Auth(...STAFF)
  @Post('operations/:id/reverse')
  @ApiCreatedResponse({
    type: OperationDto,
    description: 'The compensating operation of the one given',
  })
  @ApiIdempotent()
  @ApiProblems(
    [404, 'No such operation'],
    [409, 'ALREADY_REVERSED, ACCOUNT_NOT_ACTIVE (closed), or CONFLICT for a reversal'],
    [422, 'INSUFFICIENT_FUNDS for the compensating debit'],
  )
  reverse(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: ReverseDto,
    @Idempotency() idem: IdempotencyRequest,
  ): Promise<OperationDto> {
    return this.ledger.reverse(user, id, dto, idem);
  }

  /** Newest first. */
  @Auth()
  @Get('accounts/:id/operations')
  @ApiOkResponse({ type: PageOf(OperationDto) })
  @ApiProblems([400, 'Invalid filter or paging'], [404, 'No such account (or not yours)'])
  listForAccount(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Query() filters: OperationFilters,
  ): Promise<Page<OperationDto>> {
    return this.queries.listForAccount(user, id, filters);
  }

  /** JSON, or CSV with ?format=csv or Accept: text/csv (debits negative). */
  @Auth()
  @Get('accounts/:id/statement')
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: StatementDto })
  @ApiProblems(
    [400, 'Invalid dates (YYYY-MM-DD, from <= to)'],
    [404, 'No such account (or not yours)'],
  )
  async statement(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Query() query: StatementQuery,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StatementDto | string> {
    const statement = await this.queries.statement(user, id, query);
    const csv =
      query.format === 'csv' || (query.format === undefined && /\btext\/csv\b/.test(accept ?? ''));
    if (!csv) return statement;
    void reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="statement-${statement.account.number}-${statement.from}-${statement.to}.csv"`,
      );
    return statementCsv(statement);
  }

  @Auth(...STAFF)
  @Get('operations')
  @ApiOkResponse({ type: PageOf(OperationDto) })
  @ApiProblems([400, 'Invalid filter or paging'])
  list(@Query() query: ListOperationsQuery): Promise<Page<OperationDto>> {
    return this.queries.list(query);
  }

  @Auth()
  @Get('operations/:id')
  @ApiOkResponse({ type: OperationDto })
  @ApiProblems([400, 'Malformed id'], [404, 'No such operation (or not on your accounts)'])
  get(@CurrentUser() user: AuthUser, @Param('id', ParseIdPipe) id: string): Promise<OperationDto> {
    return this.queries.get(user, id);
  }
}
