import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems';
import { Auth, AuthUser, CurrentUser, Caller, CurrentCaller, SessionInQuery } from '../auth';
import { Page, PageOf } from '../common/pagination';
import { ParseIdPipe } from '../common/validation';
import { STAFF_ROLES } from '../identity/role';
import { AccountsService } from './accounts.service';
import { SerializedAs } from '../common/serialization';
import {
  ACCOUNT_SCHEMA,
  AccountDto,
  AddHolderDto,
  ListAccountsQuery,
  OpenAccountDto,
  UpdateAccountDto,
} from './dto/accounts.dto';

@ApiTags('accounts')
@Controller('api/v1/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  /** Opens an account for one or more holders, at balance 0.00. */
  @Auth(...STAFF_ROLES)
  @Post()
  @ApiCreatedResponse({ type: AccountDto })
  @ApiProblems([400, 'Invalid body, unknown holder or currency'])
  open(@CurrentUser() user: AuthUser, @Body() dto: OpenAccountDto): Promise<AccountDto> {
    return this.accounts.open(user, dto);
  }

  /** Staff see every account; a customer the accounts its client holds. */
  @Auth()
  @Get()
  @ApiOkResponse({ type: PageOf(AccountDto) })
  @ApiProblems([400, 'Invalid filter or paging'])
  list(
    @CurrentUser() user: AuthUser,
    @Query() query: ListAccountsQuery,
  ): Promise<Page<AccountDto>> {
    return this.accounts.list(user, query);
  }

  /** Reads an account with its balance and holders: staff any, a customer one it holds. */
  @Auth()
  @SessionInQuery()
  @Get(':id')
  @SerializedAs(ACCOUNT_SCHEMA)
  @ApiOkResponse({ type: AccountDto })
  @ApiProblems([400, 'Malformed id'], [404, 'No such account (or not yours)'])
  get(@CurrentCaller() caller: Caller, @Param('id', ParseIdPipe) id: string): Promise<AccountDto> {
    return this.accounts.getFor(caller, id);
  }

  /** Freeze or unfreeze, or change the overdraft limit. The balance is never writable. */
  @Auth(...STAFF_ROLES)
  @Patch(':id')
  @ApiOkResponse({ type: AccountDto })
  @ApiProblems(
    [400, 'Invalid body (balance is not writable; status active or frozen)'],
    [404, 'No such account'],
    [409, 'ACCOUNT_NOT_ACTIVE (closed), or CONFLICT when the balance is below the new limit'],
  )
  update(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: UpdateAccountDto,
  ): Promise<AccountDto> {
    return this.accounts.update(user, id, dto);
  }

  /** Adds a holder (a client) to an account. */
  @Auth(...STAFF_ROLES)
  @Post(':id/holders')
  @HttpCode(200)
  @ApiOkResponse({ type: AccountDto })
  @ApiProblems(
    [400, 'Invalid body or unknown client'],
    [404, 'No such account'],
    [409, 'CONFLICT (already a holder) or ACCOUNT_NOT_ACTIVE (closed)'],
  )
  addHolder(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: AddHolderDto,
  ): Promise<AccountDto> {
    return this.accounts.addHolder(user, id, dto.clientId);
  }

  /** Removes a holder from an account; never the last one, and not from a closed account. */
  @Auth(...STAFF_ROLES)
  @Delete(':id/holders/:clientId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The holder is removed from the account' })
  @ApiProblems(
    [400, 'Malformed id'],
    [404, 'No such account or holder'],
    [409, 'LAST_HOLDER, or ACCOUNT_NOT_ACTIVE (closed)'],
  )
  removeHolder(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Param('clientId', ParseIdPipe) clientId: string,
  ): Promise<void> {
    return this.accounts.removeHolder(user, id, clientId);
  }

  /** Closes an account whose balance is 0.00. */
  @Auth(...STAFF_ROLES)
  @Post(':id/close')
  @HttpCode(200)
  @ApiOkResponse({ type: AccountDto })
  @ApiProblems(
    [404, 'No such account'],
    [409, 'BALANCE_NOT_ZERO, or ACCOUNT_NOT_ACTIVE when already closed'],
  )
  close(@CurrentUser() user: AuthUser, @Param('id', ParseIdPipe) id: string): Promise<AccountDto> {
    return this.accounts.close(user, id);
  }
}
