import pino from 'pino';
import { rootLogger } from '../../src/logging/root-logger';

export type LogLine = Record<string, unknown>;

/**
 * Every line the in-process service logs, as written: the process has one pino logger (see
 * rootLogger), and this taps the stream it writes to. The lines still reach stdout.
 */
export class LogCapture {
  private readonly raw: string[] = [];
  private readonly stream: { write(line: string): boolean };
  private readonly original: (line: string) => boolean;

  constructor() {
    const logger = rootLogger() as unknown as Record<symbol, { write(line: string): boolean }>;
    const stream = logger[pino.symbols.streamSym];
    if (stream === undefined) throw new Error('the root logger has no stream');
    this.stream = stream;
    this.original = stream.write.bind(stream);
    stream.write = (line: string) => {
      this.raw.push(line);
      return this.original(line);
    };
  }

  lines(): LogLine[] {
    return this.raw.flatMap((chunk) =>
      chunk
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LogLine),
    );
  }

  stop(): void {
    this.stream.write = this.original;
  }
}
