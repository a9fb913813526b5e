import { type DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { REDIS_CLIENT } from '../idempotency/redis.constants';
// Types only: with tracing off, no OpenTelemetry module is ever loaded.
import type { OtelTracing } from './otel-tracing';

const OTEL_TRACING = Symbol('OTEL_TRACING');

/**
 * Tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise an empty module that costs nothing:
 * the OpenTelemetry packages are imported lazily, inside the factory, only when it is on.
 */
@Module({})
export class TracingModule {
  static forRoot(config: AppConfig): DynamicModule {
    const settings = config.tracing;
    if (settings === null) return { module: TracingModule };
    return {
      module: TracingModule,
      imports: [IdempotencyModule],
      providers: [
        {
          provide: OTEL_TRACING,
          inject: [getDataSourceToken(), REDIS_CLIENT],
          useFactory: async (dataSource: DataSource, redis: Redis): Promise<OtelTracing> => {
            const otel = await import('./otel-tracing');
            return new otel.OtelTracing(settings, dataSource, redis);
          },
        },
        {
          provide: APP_INTERCEPTOR,
          inject: [OTEL_TRACING],
          useFactory: (tracing: OtelTracing) => tracing.interceptor,
        },
      ],
    };
  }
}
