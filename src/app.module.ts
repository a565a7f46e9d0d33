import { DynamicModule, Module } from '@nestjs/common';
import { ConditionalModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { AccountsModule } from './accounts/accounts.module';
import { AuthModule } from './auth';
import { ClientsModule } from './clients/clients.module';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { envSchema } from './config/env';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { MetricsModule } from './metrics/metrics.module';
import { OperationsModule } from './operations/operations.module';
import { PayeesModule } from './payees/payees.module';
import { AuditModule } from './audit/audit.module';
import { AuditEventsModule } from './audit-events/audit-events.module';
import { UsersModule } from './users/users.module';
import { loggerOptions } from './logging';

/**
 * METRICS_ENABLED, read by the schema's own rule from the environment that
 * ConfigModule has just validated (and completed from .env).
 */
const metricsEnabled = (env: NodeJS.ProcessEnv): boolean =>
  envSchema.extract('METRICS_ENABLED').validate(env.METRICS_ENABLED).value as boolean;

export interface AppOptions {
  /** Read a .env file (default true; tests pass false). */
  envFile?: boolean;
}

@Module({})
export class AppModule {
  static register(options: AppOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.register({ envFile: options.envFile }),
        LoggerModule.forRootAsync({ inject: [AppConfig], useFactory: loggerOptions }),
        DatabaseModule,
        AuthModule,
        UsersModule,
        ClientsModule,
        AccountsModule,
        OperationsModule,
        PayeesModule,
        AuditModule,
        AuditEventsModule,
        HealthModule,
        MaintenanceModule,
        // Off, the module is not there at all: no series, no hooks, no provider to start a server.
        ConditionalModule.registerWhen(MetricsModule, metricsEnabled, { debug: false }),
      ],
    };
  }
}
