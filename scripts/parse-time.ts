import { UsageError } from './cli';

/**
 * An ISO 8601 date or date-time from a flag; without a zone it means UTC, like every DATETIME
 * column. Anything else is a UsageError naming the flag.
 */
export function parseIsoTime(flag: string, raw: string): Date {
  const text = raw.trim().replace(' ', 'T');
  const match =
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  // A date alone is UTC midnight in JavaScript already; a date-time without a zone gets one.
  const zoned = match?.[1] !== undefined && match[2] === undefined ? `${text}Z` : text;
  const date = match === null ? undefined : new Date(zoned);
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new UsageError(
      `${flag}: "${raw}" is not an ISO 8601 date or date-time (e.g. 2026-11-20 or 2026-11-20T10:00:00Z)`,
    );
  }
  return date;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A duration such as 500ms, 30s, 10m or 2h, in milliseconds. */
export function parseDuration(flag: string, raw: string): number {
  const match = /^(\d{1,9})(ms|s|m|h)$/.exec(raw.trim());
  if (match === null) {
    throw new UsageError(`${flag}: "${raw}" is not a duration such as 500ms, 30s, 10m or 2h`);
  }
  return Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? 'ms'] ?? 1);
}
