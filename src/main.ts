import 'reflect-metadata';
import cluster from 'node:cluster';
import { Logger } from 'nestjs-pino';
import { createApp } from './app.factory';
import { DataSource } from 'typeorm';
import { corsNotice } from './bootstrap/cors';
import { checkedConfiguration, startClusterIfAsked } from './cluster';
import { AppConfig } from './config/app-config';
import { seedDemo } from './demo/demo-data';
import { logDestination } from './logging';
import { answerPrimaryScrapes, MetricsServer } from './metrics/metrics-server';
import { adminPasswordBanner, UsersService } from './users/users.service';

async function main(): Promise<void> {
  // `npm start -- --seed-demo` is SEED_DEMO=true, for this process and the workers it forks.
  if (process.argv.slice(2).includes('--seed-demo')) process.env.SEED_DEMO = 'true';
  const env = checkedConfiguration();
  if (await startClusterIfAsked(env)) return;
  // A worker's metrics are served by the primary, summed with the others': answer it from the start.
  if (cluster.isWorker && env.METRICS_ENABLED) answerPrimaryScrapes();
  const app = await createApp();
  try {
    const config = app.get(AppConfig);
    const logger = app.get(Logger);
    // Before the API: a metrics port that is taken stops the service before it serves anything.
    if (config.metrics.enabled && !cluster.isWorker) {
      logger.log(`Metrics served on ${await app.get(MetricsServer).listen()}`);
    }
    const firstWorker = (cluster.worker?.id ?? 1) === 1;
    const notice = corsNotice(config.nodeEnv, config.corsOrigins);
    // Once per start, not once per worker.
    if (notice && firstWorker) logger.warn(notice);
    // Before the API answers, so its first answer already sees the demo; once, by one worker.
    if (env.SEED_DEMO && firstWorker) {
      for (const line of (await seedDemo(app.get(DataSource), app.get(UsersService))).split('\n'))
        logger.log(line.trim(), 'DemoData');
    }
    await app.listen(config.port, config.host);
    const where = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host;
    logger.log(
      `Bank API listening on http://${where}:${config.port}${config.docsEnabled ? ` (docs: /docs)` : ''}`,
    );
  } finally {
    // Last, as plain text: the one thing a newcomer must not miss on the first start, even one
    // that then fails (the admin exists from now on; its password is shown only here).
    const password = app.get(UsersService).takeGeneratedAdminPassword();
    // Through the log's own stream, which writes asynchronously: after the lines logged so far.
    if (password) logDestination().write(adminPasswordBanner(password));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
