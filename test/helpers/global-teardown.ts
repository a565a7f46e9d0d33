import { adminQuery, onServer, TEMPLATE_DB } from './databases';

export default async function globalTeardown(): Promise<void> {
  if (!onServer) return;
  await adminQuery(`DROP DATABASE IF EXISTS ${TEMPLATE_DB()} WITH (FORCE)`);
}
