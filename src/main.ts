import 'reflect-metadata';
import { startApp } from './bootstrap';
import { parseConfig } from './config/app-config';
import { ConfigError } from './config/config.error';

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
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
      console.error(`${signal} again: exiting at once`);
      process.exit(130);
    }
    stopping = true;
    const deadline = setTimeout(() => {
      console.error(`shutdown took longer than ${config.shutdownTimeoutMs} ms: exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error('cms-sync failed to start:', err);
  process.exit(1);
});
