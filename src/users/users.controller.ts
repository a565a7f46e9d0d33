import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { Page, PageOf } from '../common/pagination';
import { ParseIdPipe } from '../common/validation';
import { CreateUserDto, ListUsersQuery, UpdateUserDto, UserDto } from './dto/users.dto';
import { Role } from '../identity/role';
import { UsersService } from './users.service';

@ApiTags('users')
@Auth(Role.Admin)
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** Creates a user: an admin, a teller, or a customer linked to one client. */
  @Post()
  @ApiBody({
    type: CreateUserDto,
    examples: {
      teller: {
        value: { username: 'teller1', password: 'a-long-teller-password', role: 'teller' },
      },
      customer: {
        value: {
          username: 'ada',
          password: 'a-long-customer-password',
          role: 'customer',
          clientId: '5f0c2d9e-8a41-4b7c-9e3d-2a6f1b8c7d40',
        },
      },
    },
  })
  @ApiCreatedResponse({ type: UserDto })
  @ApiProblems(
    [400, 'Invalid body, or role and clientId do not fit, or unknown clientId'],
    [409, 'Username taken'],
  )
  create(@Body() dto: CreateUserDto, @CurrentUser() by: AuthUser): Promise<UserDto> {
    return this.users.create(dto, by);
  }

  /** Lists users, oldest first, optionally by role. */
  @Get()
  @ApiOkResponse({ type: PageOf(UserDto) })
  @ApiProblems([400, 'Invalid page, limit or role'])
  list(@Query() query: ListUsersQuery): Promise<Page<UserDto>> {
    return this.users.list(query);
  }

  /** Reads one user. */
  @Get(':id')
  @ApiOkResponse({ type: UserDto })
  @ApiProblems([400, 'Malformed id'], [404, 'No such user'])
  get(@Param('id', ParseIdPipe) id: string): Promise<UserDto> {
    return this.users.get(id);
  }

  /** Disabling or setting a password revokes the user's sessions; a role change applies at their next request. */
  @Patch(':id')
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(
    [400, 'Invalid body, or role and clientId do not fit, or unknown clientId'],
    [404, 'No such user'],
    [409, 'Would leave no active admin'],
  )
  update(
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: UpdateUserDto,
    @CurrentUser() by: AuthUser,
  ): Promise<UserDto> {
    return this.users.update(id, dto, by);
  }
}
