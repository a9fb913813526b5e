import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ENTITY_KINDS, type EntityKind } from '../domain/entity-kind';
import type { SyncEvent, UpsertEvent } from '../domain/sync-event';
import type { RecordedOutcome } from '../domain/sync-outcome';
import { entityKey, type EntityKey, planApply, type VersionState } from '../domain/version-rule';
import type { CmsEntityRepository } from '../persistence/cms-entity.repository';
import { CustomerRepository } from '../persistence/customer.repository';
import { EntityVersionRepository } from '../persistence/entity-version.repository';
import { OrderRepository } from '../persistence/order.repository';
import { ProcessedEventRepository } from '../persistence/processed-event.repository';
import { ProductRepository } from '../persistence/product.repository';
import { SqlConnection } from '../persistence/sql-connection';

/** What one transaction found: events recorded before, and events it recorded now. */
export interface UnitOfWorkResult {
  readonly alreadyProcessed: ReadonlyMap<string, RecordedOutcome>;
  readonly recorded: ReadonlyMap<string, RecordedOutcome>;
}

/**
 * The unit of work: one transaction on one pooled connection for any number of valid events,
 * owned here and only here. Statements per transaction: the duplicate check; per kind, the
 * version lock (with the entity rows' versions), lock rows for new entities, one upsert, and for
 * deletes the delete and its tombstones (orders: their items too); the processed_events insert.
 */
@Injectable()
export class SyncUnitOfWork {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly processedEvents: ProcessedEventRepository,
    private readonly versions: EntityVersionRepository,
    private readonly products: ProductRepository,
    private readonly customers: CustomerRepository,
    private readonly orders: OrderRepository,
  ) {}

  apply(events: readonly SyncEvent[]): Promise<UnitOfWorkResult> {
    // Connections run READ COMMITTED (see openDataSource): the locking reads see the latest commits.
    return this.dataSource.transaction(async (em) => {
      const db = SqlConnection.of(em);
      const alreadyProcessed = await this.processedEvents.findProcessed(
        db,
        events.map((event) => event.eventId),
      );
      const fresh = new Map<string, SyncEvent>();
      for (const event of events) {
        if (!alreadyProcessed.has(event.eventId) && !fresh.has(event.eventId)) {
          fresh.set(event.eventId, event);
        }
      }
      if (fresh.size === 0) return { alreadyProcessed, recorded: new Map() };

      const now = new Date();
      const freshEvents = [...fresh.values()];
      const recorded = new Map<string, RecordedOutcome>();
      for (const kind of ENTITY_KINDS) {
        const ofKind = freshEvents.filter((event) => event.kind === kind);
        if (ofKind.length > 0) await this.applyKind(db, kind, ofKind, now, recorded);
      }
      await this.processedEvents.record(db, freshEvents, recorded, now);
      return { alreadyProcessed, recorded };
    });
  }

  private async applyKind(
    db: SqlConnection,
    kind: EntityKind,
    events: readonly SyncEvent[],
    now: Date,
    recorded: Map<string, RecordedOutcome>,
  ): Promise<void> {
    const repository = this.repository(kind);
    const ids = [...new Set(events.map((event) => event.entityId))];
    const locked = await this.versions.lock(db, kind, repository.table, ids, now);
    const current = new Map<EntityKey, VersionState>();
    for (const [id, state] of locked) current.set(entityKey(kind, id), state);
    const plan = planApply(events, current);
    for (const [eventId, outcome] of plan.outcomes) recorded.set(eventId, outcome);

    const upserts: UpsertEvent[] = [];
    const existing: number[] = [];
    const deletes: { id: number; version: number }[] = [];
    for (const winner of plan.winners) {
      if (winner.action === 'upsert') {
        upserts.push(winner);
        if (locked.get(winner.entityId)?.hasRow === true) existing.push(winner.entityId);
      } else {
        deletes.push({ id: winner.entityId, version: winner.version });
      }
    }
    if (upserts.length > 0) {
      if (kind === 'order') {
        await this.orders.upsertWithItems(db, upserts as UpsertEvent<'order'>[], existing, now);
      } else {
        await repository.upsert(db, upserts, now);
      }
    }
    if (deletes.length > 0) {
      await repository.delete(db, deletes);
      await this.versions.saveTombstones(db, kind, deletes, now);
    }
  }

  private repository(kind: EntityKind): CmsEntityRepository<EntityKind> {
    const repositories: Record<EntityKind, CmsEntityRepository<EntityKind>> = {
      product: this.products,
      customer: this.customers,
      order: this.orders,
    };
    return repositories[kind];
  }
}
