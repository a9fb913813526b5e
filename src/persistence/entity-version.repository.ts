import { Injectable } from '@nestjs/common';
import type { EntityKind } from '../domain/entity-kind';
import type { VersionState } from '../domain/version-rule';
import type { SqlConnection } from './sql-connection';

interface LockRow {
  entity_id: number;
  version: number;
  deleted: number;
  source_version: number | null;
}

/** What the lock found for one entity: the version rule's input, and whether its row exists. */
export interface LockedEntity extends VersionState {
  readonly hasRow: boolean;
}

const TABLE = 'sync_entity_versions';
const COLUMNS = ['entity', 'entity_id', 'version', 'deleted', 'updated_at'];
/** A lock row of an entity never deleted: its version lives in the entity row. */
const NOT_DELETED = 0;

/**
 * `sync_entity_versions` holds one row per entity ever synced: the row every writer of that
 * entity locks first, so writers of one entity take turns. It is written only when an entity is
 * first seen (version 0, deleted 0) and when one is deleted (its tombstone: the delete's version,
 * deleted 1, kept when the entity comes back). An entity's last version is the greater of its
 * tombstone and its row's `source_version`.
 */
@Injectable()
export class EntityVersionRepository {
  /**
   * Locks the lock rows of the given entities of one kind until the transaction ends, and
   * returns each one's last version (with its entity row's version, read in the same statement).
   * A missing lock row is inserted so that there is a row to lock; if another transaction
   * inserts the same one concurrently, this throws DuplicateKeyError after that one commits, and
   * the retry sees its version.
   */
  async lock(
    db: SqlConnection,
    kind: EntityKind,
    entityTable: string,
    ids: readonly number[],
    now: Date,
  ): Promise<Map<number, LockedEntity>> {
    const states = new Map<number, LockedEntity>();
    if (ids.length === 0) return states;
    // One indexed IN list, so only these rows get locked (in key order, whatever the list's).
    const rows = await db.query<LockRow[]>(
      TABLE,
      `SELECT v.entity_id, v.version, v.deleted, e.source_version FROM ${TABLE} v LEFT JOIN ${entityTable} e ON e.id = v.entity_id WHERE v.entity = ? AND v.entity_id IN (?) FOR UPDATE`,
      [kind, ids],
    );
    for (const row of rows) {
      const tombstone = row.deleted === NOT_DELETED ? 0 : Number(row.version);
      const current = row.source_version === null ? 0 : Number(row.source_version);
      if (tombstone === 0 && current === 0) continue;
      states.set(Number(row.entity_id), {
        version: Math.max(tombstone, current),
        deleted: row.source_version === null,
        hasRow: row.source_version !== null,
      });
    }
    const found = new Set(rows.map((row) => Number(row.entity_id)));
    const missing = ids.filter((id) => !found.has(id));
    await db.insertRows(
      TABLE,
      COLUMNS,
      missing.map((id) => [kind, id, 0, false, now]),
    );
    return states;
  }

  /** Records the tombstones of deleted entities; their rows are locked by `lock` already. */
  async saveTombstones(
    db: SqlConnection,
    kind: EntityKind,
    deletes: readonly { id: number; version: number }[],
    now: Date,
  ): Promise<void> {
    await db.insertRows(
      TABLE,
      COLUMNS,
      deletes.map((d) => [kind, d.id, d.version, true, now]),
      'version = VALUES(version), deleted = 1, updated_at = VALUES(updated_at)',
    );
  }
}
