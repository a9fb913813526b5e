import { type Span, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type {
  AfterQueryEvent,
  BeforeQueryEvent,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  TransactionStartEvent,
} from 'typeorm';
import { truncateSql } from '../logging/typeorm-slow-query.logger';
import type { TraceContextStorage } from './trace-context.storage';

const DB_ATTRIBUTES = { 'db.system.name': 'mysql' };

/**
 * Spans for the database work of a traced event, from TypeORM's own query and transaction
 * events: one `db transaction` span from START TRANSACTION to COMMIT or ROLLBACK, and one span
 * per statement (the SQL without its parameters, which hold personal data) beneath it.
 * Statements outside an event's trace (readiness, pruning, metrics) make no spans.
 */
export class QuerySpanSubscriber implements EntitySubscriberInterface {
  private readonly transactions = new WeakMap<QueryRunner, Span>();
  /** Per connection, the open statement spans in order: mysql2 answers a connection in order. */
  private readonly queries = new WeakMap<QueryRunner, Span[]>();

  constructor(
    private readonly tracer: Tracer,
    private readonly contexts: TraceContextStorage,
  ) {}

  beforeTransactionStart(event: TransactionStartEvent): void {
    const parent = this.contexts.activeInTrace();
    if (parent === undefined) return;
    const span = this.tracer.startSpan(
      'db transaction',
      { kind: SpanKind.CLIENT, attributes: DB_ATTRIBUTES },
      parent,
    );
    this.transactions.set(event.queryRunner, span);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    this.endTransaction(event.queryRunner, 'commit');
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    this.endTransaction(event.queryRunner, 'rollback');
  }

  beforeQuery(event: BeforeQueryEvent<unknown>): void {
    const parent = this.contexts.activeInTrace();
    if (parent === undefined) return;
    const transaction = this.transactions.get(event.queryRunner);
    // The statement's first keyword; the locking read is a UNION of parenthesised SELECTs.
    const operation = /^[\s(]*(\w+)/.exec(event.query)?.[1]?.toUpperCase() ?? 'QUERY';
    const span = this.tracer.startSpan(
      `mysql ${operation}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...DB_ATTRIBUTES,
          'db.operation.name': operation,
          'db.query.text': truncateSql(event.query),
        },
      },
      transaction === undefined ? parent : trace.setSpan(parent, transaction),
    );
    const open = this.queries.get(event.queryRunner) ?? [];
    open.push(span);
    this.queries.set(event.queryRunner, open);
  }

  afterQuery(event: AfterQueryEvent<unknown>): void {
    const span = this.queries.get(event.queryRunner)?.shift();
    if (span === undefined) return;
    if (!event.success) {
      const message = event.error instanceof Error ? event.error.message : 'query failed';
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
    span.end();
  }

  private endTransaction(queryRunner: QueryRunner, end: 'commit' | 'rollback'): void {
    const span = this.transactions.get(queryRunner);
    if (span === undefined) return;
    this.transactions.delete(queryRunner);
    span.setAttribute('cms_sync.transaction.end', end);
    if (end === 'rollback') span.setStatus({ code: SpanStatusCode.ERROR, message: 'rolled back' });
    span.end();
  }
}
