/**
 * What a round trip costs event mode: the CPU of the client and of MariaDB per transaction of
 * its usual case (an update of a product that has its row), with one transaction per round trip
 * as the service sends them, and with several transactions in one round trip. No Kafka, no
 * service: the statements alone, on one connection, against the service's own schema in a fresh
 * database.
 *
 * - `claim first`: today's fast path, the claim (INSERT IGNORE of the processed_events row) and
 *   the UPDATE guarded by the version and by the claim (`ROW_COUNT() = 1`), then COMMIT.
 * - `update first, k per round trip`: the UPDATE guarded by the version and by the event not
 *   being recorded, and the processed_events row inserted only when the UPDATE changed the row:
 *   a transaction that must take the long way commits nothing, so k of them can go together.
 *
 *   npx tsx bench/round-trip-micro.ts [--products 3000] [--rounds 3]
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { parseConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import { openDataSource } from '../src/persistence/schema';
import { databaseServerPid, processCpuSeconds } from './sink-process';

const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
const PER_ROUND_TRIP = [1, 5, 10] as const;

const { values } = parseArgs({
  options: {
    products: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '3' },
  },
});
const products = Number(values.products);
const rounds = Number(values.rounds);

const columns = (id: number, version: number) =>
  `sku = 'SKU-${id}', name = 'Product ${id} v${version}', description = 'Soft cotton, regular fit, revision ${version}. ', ` +
  `price = ${id % 500}.50, currency = 'EUR', stock = ${version}, active = 1, ` +
  `source_occurred_at = NOW(3), synced_at = NOW(3), source_version = ${version}`;

const processedRow = (eventId: string, id: number, version: number) =>
  `'${eventId}', 'product.updated', ${id}, ${version}, 'applied', 'bench.product.changed', 0, ${id}, NOW(3)`;

const PROCESSED_COLUMNS =
  'event_id, event_type, entity_id, version, outcome, topic, kafka_partition, kafka_offset, processed_at';

/** Today's fast path: the claim, then the UPDATE guarded by it. */
function claimFirst(eventId: string, id: number, version: number): string {
  return [
    'START TRANSACTION',
    `INSERT IGNORE INTO processed_events (${PROCESSED_COLUMNS}) VALUES (${processedRow(eventId, id, version)})`,
    `UPDATE cms_products SET ${columns(id, version)} WHERE id = ${id} AND source_version < ${version} AND ROW_COUNT() = 1`,
    'COMMIT',
  ].join(';\n');
}

/** The UPDATE first, guarded by the event not being recorded; the record only if it updated. */
function updateFirst(eventId: string, id: number, version: number): string {
  return [
    'START TRANSACTION',
    `UPDATE cms_products SET ${columns(id, version)} WHERE id = ${id} AND source_version < ${version} ` +
      `AND NOT EXISTS (SELECT 1 FROM processed_events WHERE event_id = '${eventId}')`,
    `INSERT INTO processed_events (${PROCESSED_COLUMNS}) SELECT ${processedRow(eventId, id, version)} FROM DUAL WHERE ROW_COUNT() = 1`,
    'COMMIT',
  ].join(';\n');
}

async function main(): Promise<void> {
  const database = `cms_sync_bench_rtmicro_${randomBytes(4).toString('hex')}`;
  const dataSource = await openDataSource({
    ...dataSourceOptions(parseConfig({ DB_HOST: DB.host, DB_DATABASE: database }).db),
    migrationsRun: true,
    logger: 'simple-console',
    logging: false,
  });
  await dataSource.destroy();
  const connection = await createConnection({ ...DB, database, multipleStatements: true });
  try {
    const serverPid = await databaseServerPid(connection);
    if (serverPid === undefined) throw new Error("MariaDB's pid file cannot be read");
    const rows = Array.from(
      { length: products },
      (_, i) => `(${i + 1}, 'SKU-${i + 1}', 'Product', NULL, 1.00, 'EUR', 1, 1, 1, NOW(3), NOW(3))`,
    );
    await connection.query(
      `INSERT INTO cms_products (id, sku, name, description, price, currency, stock, active, source_version, source_occurred_at, synced_at) VALUES ${rows.join(', ')}`,
    );
    let version = 1;
    let seq = 0;
    const variants: { name: string; perRoundTrip: number; write: typeof claimFirst }[] = [
      { name: 'claim first, 1 per round trip (today)', perRoundTrip: 1, write: claimFirst },
      ...PER_ROUND_TRIP.map((k) => ({
        name: `update first, ${k} per round trip`,
        perRoundTrip: k,
        write: updateFirst,
      })),
    ];
    console.log(`| variant | transactions/s | client µs/tx (system) | MariaDB µs/tx |`);
    console.log(`| --- | ---: | ---: | ---: |`);
    for (let round = 0; round < rounds; round++) {
      for (const { name, perRoundTrip, write } of variants) {
        version++;
        const client = process.cpuUsage();
        const serverBefore = processCpuSeconds(serverPid) ?? NaN;
        const started = performance.now();
        for (let id = 1; id <= products; id += perRoundTrip) {
          const texts: string[] = [];
          for (let j = id; j < id + perRoundTrip && j <= products; j++) {
            texts.push(write(`rt-${String(seq++).padStart(12, '0')}`, j, version));
          }
          await connection.query(texts.join(';\n'));
        }
        const seconds = (performance.now() - started) / 1000;
        const used = process.cpuUsage(client);
        const server = ((processCpuSeconds(serverPid) ?? NaN) - serverBefore) * 1e6;
        console.log(
          `| ${name} | ${(products / seconds).toFixed(0)} | ${((used.user + used.system) / products).toFixed(1)} (${(used.system / products).toFixed(1)}) | ${(server / products).toFixed(1)} |`,
        );
      }
    }
    const [counted] = await connection.query(
      `SELECT COUNT(*) AS n FROM cms_products WHERE source_version = ${version}`,
    );
    const [check] = counted as { n: number }[];
    if (Number(check?.n) !== products) throw new Error(`only ${check?.n} products updated`);
  } finally {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await connection.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
