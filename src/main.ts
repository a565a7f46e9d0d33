import 'reflect-metadata';
import { Logger } from 'nestjs-pino';
import { createApp } from './app.factory';
import { checkedConfiguration, startClusterIfAsked } from './cluster';
import { AppConfig } from './config/app-config';
import { logDestination } from './logging';
import { adminPasswordBanner, UsersService } from './users/users.service';

async function main(): Promise<void> {
  if (startClusterIfAsked(checkedConfiguration())) return;
  const app = await createApp();
  const config = app.get(AppConfig);
  await app.listen(config.port, config.host);
  const where = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host;
  app
    .get(Logger)
    .log(
      `Bank API listening on http://${where}:${config.port}${config.docsEnabled ? ` (docs: /docs)` : ''}`,
    );
  // Last, as plain text: the one thing a newcomer must not miss on the first start.
  const password = app.get(UsersService).takeGeneratedAdminPassword();
  // Through the log's own stream, which writes asynchronously: after the lines logged so far.
  if (password) logDestination().write(adminPasswordBanner(password));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
