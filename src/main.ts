import 'reflect-metadata';
import { startApp } from './bootstrap';
import { parseConfig } from './config/app-config';
import { ConfigError } from './config/config.error';
import { rootLogger } from './logging/root-logger';

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // Before logging is set up, and for a human at a terminal: plain text on stderr.
      console.error(err.message);
      process.exit(78);
    }
    throw err;
  }

  let stopping = false;
  const app = await startApp(config, () => {
    if (!stopping) process.exit(1);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      rootLogger().warn(`${signal} again: exiting at once`);
      process.exit(130);
    }
    stopping = true;
    const deadline = setTimeout(() => {
      rootLogger().error(`shutdown took longer than ${config.shutdownTimeoutMs} ms: exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        rootLogger().error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  rootLogger().fatal({ err }, 'cms-sync failed to start');
  process.exit(1);
});
