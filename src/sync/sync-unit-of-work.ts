import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ENTITY_KINDS, type EntityKind } from '../domain/entity-kind';
import type { SyncEvent, UpsertEvent } from '../domain/sync-event';
import type { RecordedOutcome } from '../domain/sync-outcome';
import { entityKey, type EntityKey, planApply, type VersionState } from '../domain/version-rule';
import type { CmsEntityRepository } from '../persistence/cms-entity.repository';
import { CustomerRepository } from '../persistence/customer.repository';
import { EntityVersionRepository, type LockResult } from '../persistence/entity-version.repository';
import { OrderRepository } from '../persistence/order.repository';
import { ProcessedEventRepository } from '../persistence/processed-event.repository';
import { ProductRepository } from '../persistence/product.repository';
import { SqlConnection, type SqlSession, type SqlStatement } from '../persistence/sql-connection';

/** What one transaction found: events recorded before, and events it recorded now. */
export interface UnitOfWorkResult {
  readonly alreadyProcessed: ReadonlyMap<string, RecordedOutcome>;
  readonly recorded: ReadonlyMap<string, RecordedOutcome>;
}

/**
 * Transactions of the unit of work on one held connection, each COMMIT carried by the next
 * one's first round trip (see SqlSession): when `apply` resolves, the transaction before it is
 * committed and its own is not yet; `flush` commits the last. When either rejects, the session
 * is over, and `committed` says how many of its transactions got through.
 */
export interface UnitOfWorkSession {
  apply(events: readonly SyncEvent[]): Promise<UnitOfWorkResult>;
  flush(): Promise<void>;
  readonly committed: number;
}

/**
 * The unit of work: one transaction on one pooled connection for any number of valid events,
 * owned here and only here. Statements per transaction, per kind of entity: the duplicate check
 * and the locking read of the lock rows and the entity rows' versions, in one round trip; lock
 * rows for entities seen for the first time, one guarded upsert, and for deletes the delete and
 * the tombstones (orders: their items too); then one processed_events insert for all. The writes
 * travel with the next kind's locking read or with the COMMIT: one kind costs two round trips.
 * One event alone (event mode) takes a shorter way when it can: see `applyOne`.
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
        get committed() {
          return sql.committed;
        },
      }),
    );
  }

  private async applyIn(
    db: SqlConnection,
    events: readonly SyncEvent[],
  ): Promise<UnitOfWorkResult> {
    // Connections run READ COMMITTED (see openDataSource): the locking reads see the latest commits.
    const now = new Date();
    const [only, ...others] = events;
    if (only !== undefined && others.length === 0) return this.applyOne(db, only, now);
    const alreadyProcessed = new Map<string, RecordedOutcome>();
    const recorded = new Map<string, RecordedOutcome>();
    const fresh: SyncEvent[] = [];
    // A fixed order of kinds, and key order within one, so two transactions lock alike.
    for (const kind of ENTITY_KINDS) {
      const ofKind = events.filter((event) => event.kind === kind);
      if (ofKind.length === 0) continue;
      const eventIds = [...new Set(ofKind.map((event) => event.eventId))];
      const lock = await this.lock(db, ofKind, this.processedEvents.findRecorded(eventIds));
      const processed = this.processedEvents.recordedIn(lock.before);
      for (const [eventId, outcome] of processed) alreadyProcessed.set(eventId, outcome);
      const freshOfKind = new Map<string, SyncEvent>();
      for (const event of ofKind) {
        if (!processed.has(event.eventId) && !freshOfKind.has(event.eventId)) {
          freshOfKind.set(event.eventId, event);
        }
      }
      if (freshOfKind.size === 0) continue;
      const freshEvents = [...freshOfKind.values()];
      for (const [eventId, outcome] of this.write(db, kind, freshEvents, lock, now)) {
        recorded.set(eventId, outcome);
      }
      fresh.push(...freshEvents);
    }
    this.processedEvents.record(db, fresh, recorded, now);
    return { alreadyProcessed, recorded };
  }

  /**
   * One event in its transaction, recorded first: its claim (see ProcessedEventRepository.claim)
   * is the duplicate check too. An update of an entity that has its row, the usual case, is then
   * a guarded UPDATE in the same round trip, with no locking read: the claim and the UPDATE where
   * the general way takes a check, a locking read, the write and the record, and 0.62x MariaDB's
   * CPU for such a transaction (micro-benchmark; bench/HISTORY.md). Only when that updates
   * nothing (no row yet, or one as new) does the version lock decide, as it does at once for a
   * created entity, which seldom has a row, and for a delete; and the claim's outcome is
   * corrected when it is not `applied`.
   */
  private async applyOne(
    db: SqlConnection,
    event: SyncEvent,
    now: Date,
  ): Promise<UnitOfWorkResult> {
    const claim = this.processedEvents.claim(event, now);
    let lock: LockResult;
    if (event.action === 'upsert' && !event.type.endsWith('.created')) {
      const repository = this.repository(event.kind);
      const [claimed, updated] = await db.queries([claim, repository.updateIfClaimed(event, now)]);
      if (!this.processedEvents.isClaimed(claimed)) return this.duplicate(db, event);
      if (repository.isUpdated(updated)) {
        if (event.kind === 'order') {
          this.orders.replaceItems(db, [event], new Set([event.entityId]));
        }
        return { alreadyProcessed: new Map(), recorded: new Map([[event.eventId, 'applied']]) };
      }
      lock = await this.lock(db, [event]);
    } else {
      lock = await this.lock(db, [event], claim);
      if (!this.processedEvents.isClaimed(lock.before)) return this.duplicate(db, event);
    }
    const outcome = this.write(db, event.kind, [event], lock, now).get(event.eventId) ?? 'stale';
    if (outcome !== 'applied') this.processedEvents.setOutcome(db, event.eventId, outcome);
    return { alreadyProcessed: new Map(), recorded: new Map([[event.eventId, outcome]]) };
  }

  private async duplicate(db: SqlConnection, event: SyncEvent): Promise<UnitOfWorkResult> {
    const outcome = await this.processedEvents.outcomeOf(db, event.eventId);
    return { alreadyProcessed: new Map([[event.eventId, outcome]]), recorded: new Map() };
  }

  /** Locks the entities of `events` (all of one kind), with `before` in the same round trip. */
  private lock(
    db: SqlConnection,
    events: readonly SyncEvent[],
    before?: SqlStatement,
  ): Promise<LockResult> {
    const kind = (events[0] as SyncEvent).kind;
    const ids = [...new Set(events.map((event) => event.entityId))];
    return this.versions.lock(db, kind, this.repository(kind).table, ids, before);
  }

  /**
   * Decides and writes one kind's fresh events by the versions `lock` found; returns each one's
   * outcome. Records nothing in processed_events.
   */
  private write(
    db: SqlConnection,
    kind: EntityKind,
    events: readonly SyncEvent[],
    lock: LockResult,
    now: Date,
  ): Map<string, RecordedOutcome> {
    const repository = this.repository(kind);
    const newIds = [...new Set(events.map((event) => event.entityId))].filter((id) =>
      lock.unlocked.has(id),
    );
    this.versions.insertLockRows(db, kind, newIds, now);

    const current = new Map<EntityKey, VersionState>();
    for (const [id, state] of lock.states) current.set(entityKey(kind, id), state);
    const plan = planApply(events, current);

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
        repository.upsert(db, upserts, now);
      }
    }
    if (deletes.length > 0) {
      repository.delete(db, deletes);
      this.versions.saveTombstones(db, kind, deletes, now);
    }
    return new Map(plan.outcomes);
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
