import type { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
/** Columns every entity table carries next to its own (contract section 3). */
const SYNC_COLUMNS = `
  source_version BIGINT NOT NULL,
  source_occurred_at DATETIME(3) NOT NULL,
  synced_at DATETIME(3) NOT NULL`;

/**
 * Ids, event types and topic names are ASCII and compared byte for byte: two event ids that
 * differ only in case are two events, not a duplicate.
 */
export class InitialSchema1763900000000 implements MigrationInterface {
  name = 'InitialSchema1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE cms_products (
      id BIGINT NOT NULL PRIMARY KEY,
      sku VARCHAR(64) NOT NULL,
      name VARCHAR(255) NOT NULL,
      description MEDIUMTEXT NULL,
      price DECIMAL(12,2) NOT NULL,
      currency CHAR(3) NOT NULL,
      stock INT NOT NULL,
      active TINYINT(1) NOT NULL,${SYNC_COLUMNS},
      KEY idx_cms_products_sku (sku)
    ) ${TABLE_OPTIONS}`);
    await q.query(`CREATE TABLE cms_customers (
      id BIGINT NOT NULL PRIMARY KEY,
      email VARCHAR(254) NOT NULL,
      first_name VARCHAR(100) NULL,
      last_name VARCHAR(100) NULL,
      phone VARCHAR(32) NULL,
      status VARCHAR(16) NOT NULL,${SYNC_COLUMNS},
      KEY idx_cms_customers_email (email)
    ) ${TABLE_OPTIONS}`);
    await q.query(`CREATE TABLE cms_orders (
      id BIGINT NOT NULL PRIMARY KEY,
      customer_id BIGINT NOT NULL,
      status VARCHAR(16) NOT NULL,
      currency CHAR(3) NOT NULL,
      total_amount DECIMAL(12,2) NOT NULL,
      placed_at DATETIME(3) NOT NULL,${SYNC_COLUMNS},
      KEY idx_cms_orders_customer (customer_id)
    ) ${TABLE_OPTIONS}`);
    await q.query(`CREATE TABLE cms_order_items (
      order_id BIGINT NOT NULL,
      line_no INT NOT NULL,
      product_id BIGINT NOT NULL,
      quantity INT NOT NULL,
      unit_price DECIMAL(12,2) NOT NULL,
      PRIMARY KEY (order_id, line_no)
    ) ${TABLE_OPTIONS}`);
    await q.query(`CREATE TABLE processed_events (
      event_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
      event_type VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      entity_id BIGINT NOT NULL,
      version BIGINT NOT NULL,
      outcome VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      topic VARCHAR(249) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      kafka_partition INT NOT NULL,
      kafka_offset BIGINT NOT NULL,
      processed_at DATETIME(3) NOT NULL,
      KEY idx_processed_events_processed_at (processed_at)
    ) ${TABLE_OPTIONS}`);
    await q.query(`CREATE TABLE sync_errors (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      event_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL,
      topic VARCHAR(249) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      kafka_partition INT NOT NULL,
      kafka_offset BIGINT NOT NULL,
      error_type VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      error_message TEXT NOT NULL,
      payload MEDIUMBLOB NULL,
      attempts INT NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL,
      resolved_at DATETIME(3) NULL,
      UNIQUE KEY uq_sync_errors_source (topic, kafka_partition, kafka_offset),
      KEY idx_sync_errors_unresolved (resolved_at, created_at)
    ) ${TABLE_OPTIONS}`);
    // The version rule needs the last version of every entity, deleted ones included, and a row
    // to lock even before the entity's first row exists.
    await q.query(`CREATE TABLE sync_entity_versions (
      entity VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      entity_id BIGINT NOT NULL,
      version BIGINT NOT NULL,
      deleted TINYINT(1) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      PRIMARY KEY (entity, entity_id)
    ) ${TABLE_OPTIONS}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'sync_entity_versions',
      'sync_errors',
      'processed_events',
      'cms_order_items',
      'cms_orders',
      'cms_customers',
      'cms_products',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
