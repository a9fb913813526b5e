import { Logger, Module } from '@nestjs/common';
import Redis from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { ProcessedEventCacheRepository } from './processed-event-cache.repository';
import { REDIS_CLIENT } from './redis.constants';

const MAX_RECONNECT_DELAY_MS = 2000;

@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const logger = new Logger('Redis');
        const client = new Redis({
          host: config.redis.host,
          port: config.redis.port,
          password: config.redis.password === '' ? undefined : config.redis.password,
          // Fail at once while disconnected instead of queueing: a down cache must cost no latency.
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          commandTimeout: 1000,
          // commandTimeout fails a command but keeps the socket: a Redis that stopped answering
          // (a failover's old address, a partition) would fail every command for ever. A socket
          // that sends nothing back this long after a command is destroyed and reconnected.
          socketTimeout: 2000,
          connectTimeout: 2000,
          retryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
        });
        // Log changes of state only: a down Redis raises an error on every reconnect attempt.
        let available: boolean | undefined;
        client.on('ready', () => {
          available = true;
          logger.log(`connected to ${config.redis.host}:${config.redis.port}`);
        });
        client.on('error', (err: Error) => {
          if (available !== false) {
            logger.warn(`unavailable, syncing through the database alone: ${err.message}`);
          }
          available = false;
        });
        return client;
      },
    },
    ProcessedEventCacheRepository,
  ],
  // The client is exported for the readiness report.
  exports: [ProcessedEventCacheRepository, REDIS_CLIENT],
})
export class IdempotencyModule {}
