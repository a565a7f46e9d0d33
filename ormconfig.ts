import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './src/database/schema';

/**
 * The DataSource the TypeORM CLI uses (npm run migration:generate / migration:run).
 * It needs a PostgreSQL server: the embedded database lives inside the app
 * process and runs its migrations itself at start.
 */
const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('Set DATABASE_URL to run the TypeORM CLI against a PostgreSQL server');
}

export default new DataSource(dataSourceOptions(url));
