import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { KafkaSpanInterceptor } from './kafka-span.interceptor';
import { QuerySpanSubscriber } from './query-span.subscriber';
import { traceRedisCommands } from './redis-spans';
import { TraceContextStorage } from './trace-context.storage';

/**
 * The OpenTelemetry side of tracing, loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set: a
 * tracer provider exporting batches of spans over OTLP/HTTP, the Kafka interceptor that opens
 * one span per fetched partition batch, and the database and Redis spans beneath it. Shutdown
 * flushes what is still buffered.
 */
export class OtelTracing implements OnApplicationShutdown {
  private readonly logger = new Logger('Tracing');
  private readonly provider: BasicTracerProvider;
  readonly interceptor: KafkaSpanInterceptor;

  constructor(settings: NonNullable<AppConfig['tracing']>, dataSource: DataSource, redis: Redis) {
    const url = `${settings.endpoint.replace(/\/+$/, '')}/v1/traces`;
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
    });
    const tracer = this.provider.getTracer('cms-sync');
    const contexts = new TraceContextStorage();
    this.interceptor = new KafkaSpanInterceptor(tracer, contexts);
    dataSource.subscribers.push(new QuerySpanSubscriber(tracer, contexts));
    traceRedisCommands(redis, tracer, contexts);
    this.logger.log(`tracing on: spans go to ${new URL(url).origin}${new URL(url).pathname}`);
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.provider.shutdown();
    } catch (err) {
      this.logger.warn(`could not flush the last spans: ${(err as Error).message}`);
    }
  }
}
