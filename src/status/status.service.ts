import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { type CachedValue, CachedRead } from '../common/cached-read';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { ConsumerStatus } from '../health/consumer-status';
import { REDIS_CLIENT } from '../idempotency/redis.constants';
import { maskedConfig } from '../logging/startup-report';
import { ConsumerLagService } from '../metrics/consumer-lag.service';
import type { ConsumerGroupDescription } from '../metrics/consumer-offsets.repository';
import { MetricsService } from '../metrics/metrics.service';
import { SyncReportRepository } from '../persistence/sync-report.repository';
import { OutcomeSamplerService, SAMPLE_INTERVAL_MS } from './outcome-sampler.service';
import type { DeadLetterStatus, Reading, StatusSnapshot } from './status-snapshot';

/** Broker readings (offsets, the group's description) are reused for this long. */
const BROKER_MAX_AGE_MS = 5000;
/** The sync_errors queries are reused for this long, whatever the number of open pages. */
const DATABASE_MAX_AGE_MS = 2000;
const DEAD_LETTERS_SHOWN = 20;

interface DeadLetters {
  readonly unresolved: number;
  readonly recent: readonly DeadLetterStatus[];
}

/**
 * Assembles the status snapshot from what the service already keeps (counters, the consumer's
 * status, the pool, the circuit) plus cached reads of the broker and of `sync_errors`: a page
 * left open costs the hot path nothing but a small query every few seconds.
 */
@Injectable()
export class StatusService {
  private readonly deadLetters: CachedRead<DeadLetters>;
  private readonly configuration: unknown;

  constructor(
    @Inject(APP_CONFIG) private readonly appConfig: AppConfig,
    private readonly metrics: MetricsService,
    private readonly lag: ConsumerLagService,
    private readonly consumer: ConsumerStatus,
    private readonly sampler: OutcomeSamplerService,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @InjectDataSource() dataSource: DataSource,
  ) {
    const report = new SyncReportRepository(dataSource);
    this.deadLetters = new CachedRead(async () => {
      const [unresolved, recent] = await Promise.all([
        report.unresolvedDeadLetters(),
        report.recentDeadLetters(DEAD_LETTERS_SHOWN),
      ]);
      return {
        unresolved: unresolved.count,
        recent: recent.map(({ createdAt, ...rest }) => ({
          ...rest,
          createdAt: createdAt.toISOString(),
        })),
      };
    });
    this.configuration = maskedConfig(appConfig);
  }

  async snapshot(): Promise<StatusSnapshot> {
    const [offsets, group, deadLetters, hits, misses, errors, circuitOpen] = await Promise.all([
      reading(this.lag.offsets(BROKER_MAX_AGE_MS)),
      reading(this.lag.group(BROKER_MAX_AGE_MS)),
      reading(this.deadLetters.get(DATABASE_MAX_AGE_MS)),
      this.metrics.cacheCount('hit'),
      this.metrics.cacheCount('miss'),
      this.metrics.cacheCount('error'),
      this.metrics.redisCircuitOpen(),
    ]);
    const memberId = this.consumer.memberId;
    const members = group.value?.members ?? [];
    const owned = ownedPartitions(members, memberId);
    return {
      generatedAt: new Date().toISOString(),
      groupId: this.appConfig.kafka.groupId,
      partitions: {
        ...offsets,
        value:
          offsets.value?.map(({ topic, partition, committed, high, lag }) => ({
            topic,
            partition,
            committed,
            highWatermark: high,
            lag,
            ownedHere: group.value === null ? null : owned.has(`${topic}/${partition}`),
          })) ?? null,
      },
      group: {
        ...group,
        value:
          group.value === null
            ? null
            : {
                state: group.value.state,
                members: members.map((m) => ({
                  memberId: m.memberId,
                  clientId: m.clientId,
                  clientHost: m.clientHost,
                  partitions: Object.entries(m.assignment).flatMap(([topic, partitions]) =>
                    [...partitions].sort((a, b) => a - b).map((p) => `${topic}/${p}`),
                  ),
                  thisInstance: m.memberId === memberId,
                })),
              },
      },
      rates: { intervalMs: SAMPLE_INTERVAL_MS, samples: this.sampler.rates() },
      deadLetters,
      dependencies: {
        mysql: { pool: this.metrics.dbPoolConnections() ?? null },
        redis: {
          connection: this.redis.status,
          circuit: circuitOpen === 1 ? 'open' : 'closed',
          hits,
          misses,
          errors,
          hitRate: hits + misses === 0 ? null : hits / (hits + misses),
        },
        kafka: this.consumer.snapshot(),
      },
      configuration: this.configuration,
    };
  }
}

/** A cached read as the snapshot shows it; a read that failed with nothing cached is an error. */
async function reading<T>(read: Promise<CachedValue<T>>): Promise<Reading<T>> {
  try {
    const { value, readAt, error } = await read;
    return {
      readAt: new Date(readAt).toISOString(),
      value,
      ...(error === undefined ? {} : { error }),
    };
  } catch (err) {
    return { readAt: null, value: null, error: err instanceof Error ? err.message : String(err) };
  }
}

function ownedPartitions(
  members: ConsumerGroupDescription['members'],
  memberId: string | undefined,
): Set<string> {
  const assignment = members.find((m) => m.memberId === memberId)?.assignment ?? {};
  return new Set(
    Object.entries(assignment).flatMap(([topic, partitions]) =>
      partitions.map((p) => `${topic}/${p}`),
    ),
  );
}
