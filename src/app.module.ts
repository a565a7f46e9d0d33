import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AccountsModule } from './accounts/accounts.module';
import { AuthModule } from './auth/auth.module';
import { ClientsModule } from './clients/clients.module';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { OperationsModule } from './operations/operations.module';
import { UsersModule } from './users/users.module';
import { loggerOptions } from './logging';

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
        HealthModule,
        MaintenanceModule,
      ],
    };
  }
}
