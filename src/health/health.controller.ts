import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Public } from '../auth';
import { ApiProblems } from '../common/api-problems';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  /** 200 with the database up; 503 while it cannot be reached. */
  @Get()
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOkResponse({
    description: 'The service and its database answer',
    schema: { example: { status: 'ok', info: { database: { status: 'up' } } } },
  })
  @ApiProblems([503, 'SERVICE_UNAVAILABLE: the database is unreachable'])
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 2000 })]);
  }
}
