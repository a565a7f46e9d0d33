import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { ApiProblems } from '../common/api-problems';
import { Page, PageOf, PageQuery } from '../common/pagination';
import { ParseIdPipe } from '../common/validation';
import { AccountsService } from './accounts.service';
import { AccountDto } from './dto/accounts.dto';

/** A client's accounts: a path under /clients, answered by the accounts module that owns them. */
@ApiTags('clients')
@Controller('api/v1/clients')
export class ClientAccountsController {
  constructor(private readonly accounts: AccountsService) {}

  /** Staff, or the customer linked to this client. */
  @Auth()
  @Get(':id/accounts')
  // The id it had when the clients module answered it: generated clients name methods after it.
  @ApiOperation({ operationId: 'ClientsController_listAccounts' })
  @ApiOkResponse({ type: PageOf(AccountDto) })
  @ApiProblems([400, 'Malformed id'], [404, 'No such client (or not yours)'])
  listAccounts(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Query() query: PageQuery,
  ): Promise<Page<AccountDto>> {
    return this.accounts.listForClient(user, id, query);
  }
}
