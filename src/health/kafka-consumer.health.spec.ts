import { HealthIndicatorService } from '@nestjs/terminus';
import { parseConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { ConsumerStatus } from './consumer-status';
import { KafkaConsumerHealthIndicator } from './kafka-consumer.health';

describe('KafkaConsumerHealthIndicator', () => {
  const config = parseConfig({ READY_MAX_FETCH_AGE_MS: '1000' });
  const indicatorFor = (status: ConsumerStatus, metrics = new MetricsService()) =>
    new KafkaConsumerHealthIndicator(new HealthIndicatorService(), status, metrics, config);

  it('is down when messages wait and the consumer has not fetched for too long', async () => {
    const status = new ConsumerStatus();
    status.joined();
    status.fetched(Date.now() - 5000);
    const metrics = new MetricsService();
    metrics.setConsumerLag([{ topic: 'product.changed', partition: 0, lag: 7 }]);
    expect(await indicatorFor(status, metrics).check('kafka')).toEqual({
      kafka: {
        status: 'down',
        state: 'joined',
        message: expect.stringMatching(/^no fetch for \d+ ms while 7 messages wait$/),
      },
    });
    // Nothing waiting: an idle consumer is not a stuck one.
    metrics.setConsumerLag([{ topic: 'product.changed', partition: 0, lag: 0 }]);
    expect(await indicatorFor(status, metrics).check('kafka')).toEqual({
      kafka: { status: 'up', state: 'joined' },
    });
    status.fetched();
    metrics.setConsumerLag([{ topic: 'product.changed', partition: 0, lag: 7 }]);
    expect(await indicatorFor(status, metrics).check('kafka')).toEqual({
      kafka: { status: 'up', state: 'joined' },
    });
  });

  it('is down, with the reason, before the consumer has joined', async () => {
    expect(await indicatorFor(new ConsumerStatus()).check('kafka')).toEqual({
      kafka: {
        status: 'down',
        state: 'starting',
        message: 'consumer has not joined its group yet',
      },
    });
  });

  it('is up once joined and through a rebalance', async () => {
    const status = new ConsumerStatus();
    status.joined();
    expect(await indicatorFor(status).check('kafka')).toEqual({
      kafka: { status: 'up', state: 'joined' },
    });
    status.rebalancing();
    expect(await indicatorFor(status).check('kafka')).toEqual({
      kafka: { status: 'up', state: 'rebalancing' },
    });
  });

  it('is down after a crash for good, naming the error without a stack', async () => {
    const status = new ConsumerStatus();
    status.joined();
    status.crashed(new Error('Not authorized to access group'), false);
    expect(await indicatorFor(status).check('kafka')).toEqual({
      kafka: {
        status: 'down',
        state: 'crashed',
        lastError: 'Not authorized to access group',
        message: 'consumer crashed and will not restart',
      },
    });
  });

  it('is down once stopped', async () => {
    const status = new ConsumerStatus();
    status.joined();
    status.stopped();
    expect(await indicatorFor(status).check('kafka')).toMatchObject({
      kafka: { status: 'down', state: 'stopped', message: 'consumer stopped' },
    });
  });
});
