import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { MetricsService } from '../metrics/metrics.service';

/**
 * Down while an entity's events fail because a table, column or privilege is missing: the
 * events wait (they are retried, never skipped), and only an operator can fix the schema. Up
 * again as soon as that entity applies an event.
 */
@Injectable()
export class SchemaHealthIndicator {
  constructor(
    private readonly healthIndicators: HealthIndicatorService,
    private readonly metrics: MetricsService,
  ) {}

  check<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const indicator = this.healthIndicators.check(key);
    const errors = this.metrics.activeSchemaErrors();
    if (errors.size === 0) return indicator.up();
    const entities = Object.fromEntries(errors);
    return indicator.down({
      message: `the database schema refuses ${[...errors.keys()].join(', ')} events; they are retried until it is fixed`,
      entities,
    });
  }
}
