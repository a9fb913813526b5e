import pino, { type Level, type LoggerOptions, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from '../config/app-config';

export const PINO_LEVELS: Record<LogLevel, Level> = {
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  verbose: 'trace',
};

const SECRET_KEYS = ['password', 'passwd', 'secret', 'token', 'authorization', 'cookie'];
const MAX_DEPTH = 4;

/**
 * Second line of defence behind the masked start-up config: any field with a password-ish name,
 * down to MAX_DEPTH levels (config.kafka.sasl.password is level 3), is censored wherever a
 * log line carries it, HTTP request headers included.
 */
export const REDACT_PATHS = SECRET_KEYS.flatMap((key) =>
  Array.from({ length: MAX_DEPTH + 1 }, (_, depth) =>
    [...Array<string>(depth).fill('*'), key].join('.'),
  ),
);

/** An empty secret stays visibly empty: "no password" is worth knowing and gives nothing away. */
const censor = (value: unknown): unknown => (value === '' ? '' : '***');

/** JSON lines with ISO times and level names, secrets censored. */
export const LOGGER_OPTIONS: LoggerOptions = {
  name: 'cms-sync',
  level: 'info',
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  redact: { paths: REDACT_PATHS, censor },
};

let root: PinoLogger | undefined;

/**
 * The one pino logger of the process: JSON lines on stdout, written synchronously so that the
 * last lines before an exit are not lost. nestjs-pino binds the first logger it sees for the
 * life of the process, so there is exactly one and its level follows the latest start (tests
 * start several apps in one process).
 */
export function rootLogger(level?: LogLevel): PinoLogger {
  root ??= pino(LOGGER_OPTIONS);
  if (level !== undefined) root.level = PINO_LEVELS[level];
  return root;
}
