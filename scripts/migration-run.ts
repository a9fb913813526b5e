/** `npm run migration:run`: creates the database if missing and applies pending migrations. */
import 'reflect-metadata';
import { parseConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import { openDataSource } from '../src/persistence/schema';

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const dataSource = await openDataSource({ ...dataSourceOptions(config.db), migrationsRun: true });
  try {
    const applied: { name: string }[] = await dataSource.query(
      'SELECT name FROM migrations ORDER BY id',
    );
    console.log(
      `Database ${config.db.database} on ${config.db.host}:${config.db.port} is up to date: ${applied.map((m) => m.name).join(', ')}`,
    );
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`migration:run failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
