import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { Page, PageOf } from '../common/pagination';
import { ParseIdPipe } from '../common/validation';
import { STAFF_ROLES } from '../identity/role';
import { ClientsService } from './clients.service';
import { ClientDto, CreateClientDto, ListClientsQuery, UpdateClientDto } from './dto/clients.dto';

@ApiTags('clients')
@Controller('api/v1/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  /** Creates a client; its national id is unique in any letter case and never changes. */
  @Auth(...STAFF_ROLES)
  @Post()
  @ApiCreatedResponse({ type: ClientDto })
  @ApiProblems([400, 'Invalid body'], [409, 'CONFLICT: a client with this nationalId exists'])
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateClientDto): Promise<ClientDto> {
    return this.clients.create(user, dto);
  }

  /** Filters are case-insensitive prefixes; q matches any of nationalId, lastName, firstName. */
  @Auth(...STAFF_ROLES)
  @Get()
  @ApiOkResponse({ type: PageOf(ClientDto) })
  @ApiProblems([400, 'Invalid filter or paging'])
  list(@Query() query: ListClientsQuery): Promise<Page<ClientDto>> {
    return this.clients.list(query);
  }

  /** Staff, or the customer linked to this client. */
  @Auth()
  @Get(':id')
  @ApiOkResponse({ type: ClientDto })
  @ApiProblems([400, 'Malformed id'], [404, 'No such client (or not yours)'])
  get(@CurrentUser() user: AuthUser, @Param('id', ParseIdPipe) id: string): Promise<ClientDto> {
    return this.clients.get(user, id);
  }

  /** nationalId is immutable. */
  @Auth(...STAFF_ROLES)
  @Patch(':id')
  @ApiOkResponse({ type: ClientDto })
  @ApiProblems([400, 'Invalid body (nationalId cannot change)'], [404, 'No such client'])
  update(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: UpdateClientDto,
  ): Promise<ClientDto> {
    return this.clients.update(user, id, dto);
  }

  /** Deletes a client that holds no account, open or closed. */
  @Auth(...STAFF_ROLES)
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The client is deleted' })
  @ApiProblems(
    [404, 'No such client'],
    [409, 'CLIENT_HAS_ACCOUNTS, or CONFLICT when a customer login is linked to the client'],
  )
  remove(@CurrentUser() user: AuthUser, @Param('id', ParseIdPipe) id: string): Promise<void> {
    return this.clients.remove(user, id);
  }
}
