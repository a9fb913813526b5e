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
import { SqlConnection, type SqlSession } from '../persistence/sql-connection';

/** What one transaction found: events recorded before, and events it recorded now. */
export interface UnitOfWorkResult {
  readonly alreadyProcessed: ReadonlyMap<string, RecordedOutcome>;
  readonly recorded: ReadonlyMap<string, RecordedOutcome>;
}

/**
 * Transactions of the unit of work on one held connection, each COMMIT carried by the next
 * one's first round trip (see SqlSession): when `apply` resolves, the transaction before it is
 * committed and its own is not yet; `flush` commits the last. When either rejects, none of the
 * uncommitted ones is known to be committed and the session is over.
 */
export interface UnitOfWorkSession {
  apply(events: readonly SyncEvent[]): Promise<UnitOfWorkResult>;
  flush(): Promise<void>;
}

/**
 * The unit of work: one transaction on one pooled connection for any number of valid events,
 * owned here and only here. Statements per transaction, per kind of entity: one locking read
 * (the duplicate check, the lock rows and the entity rows' versions together), lock rows for
 * entities seen for the first time, one guarded upsert, and for deletes the delete and the
 * tombstones (orders: their items too); then one processed_events insert for all. The writes
 * travel with the next kind's locking read or with the COMMIT: one kind costs two round trips.
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
    return SqlConnection.transaction(this.dataSource, (db) => this.applyIn(db, events));
  }

  /**
   * Runs `body` with one pooled connection for a run of transactions (see UnitOfWorkSession),
   * commits the last one and gives the connection back.
   */
  session<T>(body: (session: UnitOfWorkSession) => Promise<T>): Promise<T> {
    return SqlConnection.session(this.dataSource, (sql: SqlSession) =>
      body({
        apply: (events) => sql.transaction((db) => this.applyIn(db, events)),
        flush: () => sql.flush(),
      }),
    );
  }

  private async applyIn(
    db: SqlConnection,
    events: readonly SyncEvent[],
  ): Promise<UnitOfWorkResult> {
    // Connections run READ COMMITTED (see openDataSource): the locking reads see the latest commits.
    const now = new Date();
    const alreadyProcessed = new Map<string, RecordedOutcome>();
    const recorded = new Map<string, RecordedOutcome>();
    const fresh: SyncEvent[] = [];
    // A fixed order of kinds, and key order within one, so two transactions lock alike.
    for (const kind of ENTITY_KINDS) {
      const ofKind = events.filter((event) => event.kind === kind);
      if (ofKind.length === 0) continue;
      const freshOfKind = await this.applyKind(db, kind, ofKind, now, alreadyProcessed, recorded);
      fresh.push(...freshOfKind);
    }
    this.processedEvents.record(db, fresh, recorded, now);
    return { alreadyProcessed, recorded };
  }

  /** Checks, locks, decides and writes one kind's events; returns those not processed before. */
  private async applyKind(
    db: SqlConnection,
    kind: EntityKind,
    events: readonly SyncEvent[],
    now: Date,
    alreadyProcessed: Map<string, RecordedOutcome>,
    recorded: Map<string, RecordedOutcome>,
  ): Promise<SyncEvent[]> {
    const repository = this.repository(kind);
    const ids = [...new Set(events.map((event) => event.entityId))];
    const eventIds = [...new Set(events.map((event) => event.eventId))];
    const lock = await this.versions.lock(db, kind, repository.table, ids, eventIds);
    for (const [eventId, outcome] of lock.processed) alreadyProcessed.set(eventId, outcome);
    const fresh = new Map<string, SyncEvent>();
    for (const event of events) {
      if (!lock.processed.has(event.eventId) && !fresh.has(event.eventId)) {
        fresh.set(event.eventId, event);
      }
    }
    if (fresh.size === 0) return [];
    const freshEvents = [...fresh.values()];
    const newIds = [...new Set(freshEvents.map((event) => event.entityId))].filter((id) =>
      lock.unlocked.has(id),
    );
    this.versions.insertLockRows(db, kind, newIds, now);

    const current = new Map<EntityKey, VersionState>();
    for (const [id, state] of lock.states) current.set(entityKey(kind, id), state);
    const plan = planApply(freshEvents, current);
    for (const [eventId, outcome] of plan.outcomes) recorded.set(eventId, outcome);

    const upserts: UpsertEvent[] = [];
    const existing = new Set<number>();
    const deletes: { id: number; version: number }[] = [];
    for (const winner of plan.winners) {
      if (winner.action === 'upsert') {
        upserts.push(winner);
        if (lock.states.get(winner.entityId)?.hasRow === true) existing.add(winner.entityId);
      } else {
        deletes.push({ id: winner.entityId, version: winner.version });
      }
    }
    if (upserts.length > 0) {
      if (kind === 'order') {
        this.orders.upsertWithItems(db, upserts as UpsertEvent<'order'>[], existing, now);
      } else {
        repository.upsert(db, upserts, existing, now);
      }
    }
    if (deletes.length > 0) {
      repository.delete(db, deletes);
      this.versions.saveTombstones(db, kind, deletes, now);
    }
    return freshEvents;
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
