import { HealthIndicatorService } from '@nestjs/terminus';
import { MetricsService } from '../metrics/metrics.service';
import { SchemaHealthIndicator } from './schema.health';

describe('SchemaHealthIndicator', () => {
  it('is down, naming the entity and the MySQL message, while a schema error lasts', async () => {
    const metrics = new MetricsService();
    const indicator = new SchemaHealthIndicator(new HealthIndicatorService(), metrics);
    expect(indicator.check('schema')).toEqual({ schema: { status: 'up' } });

    const reason = "ER_BAD_FIELD_ERROR: Unknown column 'sku' in 'field list'";
    metrics.recordSchemaError('product', reason);
    expect(indicator.check('schema')).toEqual({
      schema: {
        status: 'down',
        message: 'the database schema refuses product events; they are retried until it is fixed',
        entities: { product: reason },
      },
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('sync_schema_errors_total{entity="product"} 1');
    expect(text).toContain('sync_schema_error_active{entity="product"} 1');

    metrics.clearSchemaError('product');
    expect(indicator.check('schema')).toEqual({ schema: { status: 'up' } });
    expect(await metrics.registry.metrics()).toContain(
      'sync_schema_error_active{entity="product"} 0',
    );
  });
});
