import 'reflect-metadata';
import { createApp } from './app.factory';
import { AppConfig } from './config/app-config';

async function main(): Promise<void> {
  const app = await createApp();
  const config = app.get(AppConfig);
  await app.listen(config.port, config.host);
  const url = await app.getUrl();
  console.log(`Bank API listening on ${url} (docs: ${url.replace('[::1]', 'localhost')}/docs)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
