import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { formatMoney } from '../common/money';
import { AppConfigModule } from '../config/config.module';
import { AuditModule } from '../audit/audit.module';
import { DatabaseModule } from '../database/database.module';
import { seedDemo } from '../demo/demo-data';
import { UsersModule } from '../users/users.module';
import { adminPasswordBanner, UsersService } from '../users/users.service';

/**
 * npm run seed:demo: writes the demo data (src/demo/demo-data.ts) into the
 * configured database. The embedded database takes one process at a time: while
 * the service runs on it, start the service with `npm start -- --seed-demo`
 * instead, which seeds it in place.
 */

@Module({ imports: [AppConfigModule.register(), DatabaseModule, AuditModule, UsersModule] })
class SeedModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(SeedModule, {
    logger: ['error', 'warn'],
    abortOnError: false,
  });
  try {
    const adminPassword = app.get(UsersService).takeGeneratedAdminPassword();
    if (adminPassword) process.stdout.write(adminPasswordBanner(adminPassword));
    console.log(await seedDemo(app.get(DataSource), app.get(UsersService)));
    const total = await app
      .get(DataSource)
      .query<Array<{ sum: string }>>(`SELECT coalesce(sum(balance), 0)::text AS sum FROM accounts`);
    console.log(`  money held in all accounts: ${formatMoney(BigInt(total[0].sum))}`);
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(
      /is in use by process/.test(message)
        ? `${message}\nOr seed it from the service itself: start it with npm start -- --seed-demo.`
        : message,
    );
    process.exit(1);
  });
}
