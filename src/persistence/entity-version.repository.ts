import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EntityKind } from '../domain/entity-kind';
import { entityKey, type EntityKey, type VersionState } from '../domain/version-rule';
import type { SyncEvent } from '../domain/sync-event';
import { insertRows } from './sql';

interface EntityRef {
  readonly kind: EntityKind;
  readonly entityId: number;
}

interface VersionRow {
  entity: EntityKind;
  entity_id: number;
  version: number;
  deleted: number;
}

const TABLE = 'sync_entity_versions';
/** A row that exists only to be locked: no version was applied to it yet. */
const UNVERSIONED = 0;

@Injectable()
export class EntityVersionRepository {
  /**
   * Locks the version rows of the given entities until the transaction ends and returns their
   * state. A missing row is inserted as a placeholder so that there is a row to lock; if another
   * transaction inserts the same one concurrently, this throws DuplicateKeyError after that one
   * commits, and the retry sees its version.
   */
  async lock(em: EntityManager, refs: readonly EntityRef[]): Promise<Map<EntityKey, VersionState>> {
    const unique = new Map<EntityKey, EntityRef>();
    for (const ref of refs) unique.set(entityKey(ref.kind, ref.entityId), ref);
    const sorted = [...unique.values()].sort(
      (a, b) => a.kind.localeCompare(b.kind) || a.entityId - b.entityId,
    );
    if (sorted.length === 0) return new Map();

    // One indexed IN list per kind (a Kafka batch carries one), so only these rows get locked.
    const rows: VersionRow[] = [];
    for (const kind of new Set(sorted.map((ref) => ref.kind))) {
      const ids = sorted.filter((ref) => ref.kind === kind).map((ref) => ref.entityId);
      rows.push(
        ...(await em.query<VersionRow[]>(
          `SELECT entity, entity_id, version, deleted FROM ${TABLE} WHERE entity = ? AND entity_id IN (?) FOR UPDATE`,
          [kind, ids],
        )),
      );
    }
    const states = new Map<EntityKey, VersionState>();
    for (const row of rows) {
      if (row.version !== UNVERSIONED) {
        states.set(entityKey(row.entity, Number(row.entity_id)), {
          version: Number(row.version),
          deleted: row.deleted === 1,
        });
      }
    }
    const found = new Set(rows.map((row) => entityKey(row.entity, Number(row.entity_id))));
    const missing = sorted.filter((ref) => !found.has(entityKey(ref.kind, ref.entityId)));
    const now = new Date();
    await insertRows(
      em,
      TABLE,
      ['entity', 'entity_id', 'version', 'deleted', 'updated_at'],
      missing.map((ref) => [ref.kind, ref.entityId, UNVERSIONED, false, now]),
    );
    return states;
  }

  /** Stores the versions the winners applied; their rows are locked by `lock` already. */
  async save(em: EntityManager, winners: readonly SyncEvent[], now: Date): Promise<void> {
    await insertRows(
      em,
      TABLE,
      ['entity', 'entity_id', 'version', 'deleted', 'updated_at'],
      winners.map((event) => [
        event.kind,
        event.entityId,
        event.version,
        event.action === 'delete',
        now,
      ]),
      ['version', 'deleted', 'updated_at'],
    );
  }
}
