import { HealthIndicatorService } from '@nestjs/terminus';
import { ConsumerStatus } from './consumer-status';
import { KafkaConsumerHealthIndicator } from './kafka-consumer.health';

describe('KafkaConsumerHealthIndicator', () => {
  const indicatorFor = (status: ConsumerStatus) =>
    new KafkaConsumerHealthIndicator(new HealthIndicatorService(), status);

  it('is down, with the reason, before the consumer has joined', () => {
    expect(indicatorFor(new ConsumerStatus()).check('kafka')).toEqual({
      kafka: {
        status: 'down',
        state: 'starting',
        message: 'consumer has not joined its group yet',
      },
    });
  });

  it('is up once joined and through a rebalance', () => {
    const status = new ConsumerStatus();
    status.joined();
    expect(indicatorFor(status).check('kafka')).toEqual({
      kafka: { status: 'up', state: 'joined' },
    });
    status.rebalancing();
    expect(indicatorFor(status).check('kafka')).toEqual({
      kafka: { status: 'up', state: 'rebalancing' },
    });
  });

  it('is down after a crash for good, naming the error without a stack', () => {
    const status = new ConsumerStatus();
    status.joined();
    status.crashed(new Error('Not authorized to access group'), false);
    expect(indicatorFor(status).check('kafka')).toEqual({
      kafka: {
        status: 'down',
        state: 'crashed',
        lastError: 'Not authorized to access group',
        message: 'consumer crashed and will not restart',
      },
    });
  });

  it('is down once stopped', () => {
    const status = new ConsumerStatus();
    status.joined();
    status.stopped();
    expect(indicatorFor(status).check('kafka')).toMatchObject({
      kafka: { status: 'down', state: 'stopped', message: 'consumer stopped' },
    });
  });
});
