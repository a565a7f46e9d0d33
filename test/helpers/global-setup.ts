import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/schema';
import { adminQuery, directUrl, onServer } from './databases';

/** On a PostgreSQL server: migrate one template database for the whole run. */
export default async function globalSetup(): Promise<void> {
  if (!onServer) return;
  process.env.TEST_TEMPLATE_DB ??= `bank_test_template_${process.pid}`;
  const TEMPLATE_DB = process.env.TEST_TEMPLATE_DB;
  await adminQuery(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${TEMPLATE_DB}`);
  const dataSource = await new DataSource(dataSourceOptions(directUrl(TEMPLATE_DB))).initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
