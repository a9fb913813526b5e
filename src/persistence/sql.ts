import type { EntityManager } from 'typeorm';
import { DuplicateKeyError } from '../common/errors/duplicate-key.error';
import { isDuplicateKey } from '../common/errors/classify-error';

export type SqlValue = string | number | boolean | Date | Buffer | null;

/** Runs a statement and turns MySQL's duplicate-key error into a typed one, here at the edge. */
export async function execute(
  em: EntityManager,
  table: string,
  sql: string,
  params: unknown[],
): Promise<unknown> {
  try {
    return await em.query(sql, params);
  } catch (err) {
    if (isDuplicateKey(err)) throw new DuplicateKeyError(table, { cause: err });
    throw err;
  }
}

/** One multi-row INSERT; with `updateColumns`, an upsert that rewrites those columns. */
export async function insertRows(
  em: EntityManager,
  table: string,
  columns: readonly string[],
  rows: readonly SqlValue[][],
  updateColumns: readonly string[] = [],
): Promise<void> {
  if (rows.length === 0) return;
  const onDuplicate =
    updateColumns.length === 0
      ? ''
      : ` ON DUPLICATE KEY UPDATE ${updateColumns.map((c) => `${c} = VALUES(${c})`).join(', ')}`;
  await execute(em, table, `INSERT INTO ${table} (${columns.join(', ')}) VALUES ?${onDuplicate}`, [
    rows,
  ]);
}

export async function deleteWhereIn(
  em: EntityManager,
  table: string,
  column: string,
  ids: readonly number[],
): Promise<void> {
  if (ids.length > 0) await em.query(`DELETE FROM ${table} WHERE ${column} IN (?)`, [ids]);
}
