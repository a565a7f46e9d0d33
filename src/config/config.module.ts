import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AppConfig } from './app-config';
import { Env, envSchema, validateEnv } from './env';

const ENV_KEYS = Object.keys((envSchema.describe() as { keys: Record<string, unknown> }).keys);

@Global()
@Module({})
export class AppConfigModule {
  /** Validates the environment now (a bad value stops the boot) and provides AppConfig. */
  static register(options: { envFile?: boolean } = {}): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          validate: validateEnv,
          ignoreEnvFile: options.envFile === false,
          cache: true,
        }),
      ],
      providers: [
        {
          provide: AppConfig,
          inject: [ConfigService],
          useFactory: (config: ConfigService) =>
            new AppConfig(Object.fromEntries(ENV_KEYS.map((k) => [k, config.get(k)])) as Env),
        },
      ],
      exports: [AppConfig],
    };
  }
}
