import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { parseConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import { openDataSource } from '../src/persistence/schema';

interface ColumnRow {
  TABLE_NAME: string;
  COLUMN_NAME: string;
  DATA_TYPE: string;
  IS_NULLABLE: 'YES' | 'NO';
  COLUMN_KEY: string;
  CHARACTER_MAXIMUM_LENGTH: number | null;
  NUMERIC_PRECISION: number | null;
  NUMERIC_SCALE: number | null;
  DATETIME_PRECISION: number | null;
}

/**
 * The migrations are the schema's one truth; the TypeORM entity classes registered with the data
 * source must describe exactly what they create, column for column, or TypeORM's own queries
 * (sync_errors) and anyone reading the entities would be misled.
 */
describe('entity classes and migrations', () => {
  const database = `cms_sync_test_schema_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await openDataSource({
      ...dataSourceOptions(parseConfig({ DB_HOST: '127.0.0.1', DB_DATABASE: database }).db),
      migrationsRun: true,
      logger: 'simple-console',
      logging: false,
    });
  });

  afterAll(async () => {
    await dataSource?.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await dataSource?.destroy();
  });

  it('every entity column is in its migrated table with the same type, and no table column is missing', async () => {
    // Reads information_schema for the migrated database and compares it with the entity metadata.
    const rows: ColumnRow[] = await dataSource.query(
      `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_NULLABLE, COLUMN_KEY, CHARACTER_MAXIMUM_LENGTH,
              NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?`,
      [database],
    );
    expect(dataSource.entityMetadatas.length).toBeGreaterThan(0);
    for (const metadata of dataSource.entityMetadatas) {
      const table = rows.filter((row) => row.TABLE_NAME === metadata.tableName);
      const described = metadata.columns.map((column) => {
        const type = String(column.type);
        return {
          column: `${metadata.tableName}.${column.databaseName}`,
          type,
          nullable: column.isNullable,
          primary: column.isPrimary,
          length: column.length === '' ? null : Number(column.length),
          precision: type === 'datetime' ? (column.precision ?? 0) : (column.precision ?? null),
          scale: column.scale ?? null,
        };
      });
      const migrated = table.map((row) => ({
        column: `${row.TABLE_NAME}.${row.COLUMN_NAME}`,
        type: row.DATA_TYPE,
        nullable: row.IS_NULLABLE === 'YES',
        primary: row.COLUMN_KEY === 'PRI',
        length: ['varchar', 'char'].includes(row.DATA_TYPE) ? row.CHARACTER_MAXIMUM_LENGTH : null,
        precision:
          row.DATA_TYPE === 'datetime'
            ? row.DATETIME_PRECISION
            : row.DATA_TYPE === 'decimal'
              ? row.NUMERIC_PRECISION
              : null,
        scale: row.DATA_TYPE === 'decimal' ? row.NUMERIC_SCALE : null,
      }));
      const byName = (a: { column: string }, b: { column: string }) =>
        a.column.localeCompare(b.column);
      expect(described.sort(byName)).toEqual(migrated.sort(byName));
    }
  });
});
