import type { Connection } from 'mysql2/promise';
import type { BenchEvent } from './stream';

/** How the tables differ from the reference; `ok` only when nothing does. */
export interface EndStateResult {
  ok: boolean;
  expectedRows: number;
  actualRows: number;
  missing: number;
  unexpected: number;
  different: number;
  examples: string[];
}

type Cell = string | null;

/** Every column the contract fixes (all but synced_at), in the order the queries below read them. */
const QUERIES = {
  product:
    'SELECT id, sku, name, description, price, currency, stock, active, source_version, source_occurred_at FROM cms_products',
  customer:
    'SELECT id, email, first_name, last_name, phone, status, source_version, source_occurred_at FROM cms_customers',
  order:
    'SELECT id, customer_id, status, currency, total_amount, placed_at, source_version, source_occurred_at FROM cms_orders',
  item: 'SELECT order_id, line_no, product_id, quantity, unit_price FROM cms_order_items',
} as const;

const MAX_EXAMPLES = 5;

/** DATETIME(3) as MySQL prints it with dateStrings: UTC, millisecond precision. */
function datetime(iso: unknown): string {
  return new Date(String(iso)).toISOString().slice(0, 23).replace('T', ' ');
}

function cell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

/** The rows the reference says must exist, keyed by table and primary key. */
function expectedRows(reference: ReadonlyMap<string, BenchEvent>): Map<string, Cell[]> {
  const rows = new Map<string, Cell[]>();
  for (const event of reference.values()) {
    if (event.action === 'deleted') continue;
    const d = event.data;
    const sync = [cell(event.version), datetime(event.occurredAt)];
    switch (event.kind) {
      case 'product':
        rows.set(`product:${event.id}`, [
          ...[d.id, d.sku, d.name, d.description ?? null, d.price, d.currency].map(cell),
          cell(d.stock ?? 0),
          cell(d.active ?? true),
          ...sync,
        ]);
        break;
      case 'customer':
        rows.set(`customer:${event.id}`, [
          ...[d.id, d.email, d.firstName, d.lastName, d.phone, d.status ?? 'active'].map(cell),
          ...sync,
        ]);
        break;
      case 'order': {
        rows.set(`order:${event.id}`, [
          ...[d.id, d.customerId, d.status, d.currency, d.totalAmount].map(cell),
          datetime(d.placedAt),
          ...sync,
        ]);
        const items = d.items as readonly {
          productId: number;
          quantity: number;
          unitPrice: string;
        }[];
        items.forEach((item, lineNo) =>
          rows.set(
            `item:${event.id}:${lineNo}`,
            [event.id, lineNo, item.productId, item.quantity, item.unitPrice].map(cell),
          ),
        );
        break;
      }
    }
  }
  return rows;
}

async function actualRows(db: Connection): Promise<Map<string, Cell[]>> {
  const rows = new Map<string, Cell[]>();
  for (const [table, sql] of Object.entries(QUERIES)) {
    const [result] = await db.query({ sql, rowsAsArray: true });
    for (const row of result as unknown[][]) {
      const key =
        table === 'item' ? `item:${cell(row[0])}:${cell(row[1])}` : `${table}:${cell(row[0])}`;
      rows.set(key, row.map(cell));
    }
  }
  return rows;
}

/**
 * Compares the entity tables and order items, column by column, with the newest version of
 * every entity in the events produced (deletes honoured). `db` must have dateStrings on and be
 * in the bench database.
 */
export async function checkEndState(
  db: Connection,
  reference: ReadonlyMap<string, BenchEvent>,
): Promise<EndStateResult> {
  const expected = expectedRows(reference);
  const actual = await actualRows(db);
  const result: EndStateResult = {
    ok: false,
    expectedRows: expected.size,
    actualRows: actual.size,
    missing: 0,
    unexpected: 0,
    different: 0,
    examples: [],
  };
  const example = (line: string) => {
    if (result.examples.length < MAX_EXAMPLES) result.examples.push(line);
  };
  for (const [key, want] of expected) {
    const got = actual.get(key);
    if (!got) {
      result.missing++;
      example(`${key} missing`);
    } else if (JSON.stringify(got) !== JSON.stringify(want)) {
      result.different++;
      example(`${key}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
  }
  for (const key of actual.keys()) {
    if (!expected.has(key)) {
      result.unexpected++;
      example(`${key} should not exist`);
    }
  }
  result.ok = result.missing + result.unexpected + result.different === 0;
  return result;
}
