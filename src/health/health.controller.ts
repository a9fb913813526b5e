import { Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { KafkaConsumerHealthIndicator } from './kafka-consumer.health';
import { RedisHealthIndicator } from './redis.health';
import { SchemaHealthIndicator } from './schema.health';

const MYSQL_PING_TIMEOUT_MS = 1500;

/** Liveness and readiness in terminus' JSON; 503 names the failing parts. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mysql: TypeOrmHealthIndicator,
    private readonly kafka: KafkaConsumerHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly schema: SchemaHealthIndicator,
  ) {}

  /** Liveness: the process answers; no dependency is checked. */
  @Get('health')
  @HealthCheck()
  liveness(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /**
   * Readiness: MySQL answers, its tables take the events, and the Kafka consumer is in its
   * group; Redis is reported only.
   */
  @Get('ready')
  @HealthCheck()
  readiness(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.mysql.pingCheck('mysql', { timeout: MYSQL_PING_TIMEOUT_MS }),
      () => this.kafka.check('kafka'),
      () => this.schema.check('schema'),
      () => this.redis.check('redis'),
    ]);
  }
}
