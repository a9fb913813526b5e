import { connect, type Socket } from 'node:net';

/** The escapes Redis writes in MONITOR output (sdscatrepr), undone. */
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' };
const QUOTED = /"((?:[^"\\]|\\.)*)"/g;

function unescapeRepr(text: string): string {
  return text.replace(/\\(x[0-9a-f]{2}|.)/g, (_all, code: string) =>
    code.length === 3 ? String.fromCharCode(parseInt(code.slice(1), 16)) : (ESCAPES[code] ?? code),
  );
}

/** A MONITOR line, `+<time> [<db> <client>] "<command>" "<arg>" …`, as command and arguments. */
function parseMonitorLine(line: string): string[] {
  return [...line.matchAll(QUOTED)].map((match) => unescapeRepr(match[1] ?? ''));
}

/**
 * Every command the shared Redis runs, from MONITOR on a raw connection of its own. ioredis'
 * `monitor()` is not used: it enters monitoring mode in a promise callback after the `+OK`, so a
 * command of another client echoed in the same read as that `+OK` fails it with "Command queue
 * state error" (seen in CI; redis/ioredis#1981, taskforcesh/bullmq#2505).
 */
export class RedisMonitor {
  private constructor(private readonly socket: Socket) {}

  /** Resolves once Redis has answered MONITOR: every command after that reaches `onCommand`. */
  static start(onCommand: (args: string[]) => void, port = 6379): Promise<RedisMonitor> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      let buffered = '';
      let monitoring = false;
      socket.setEncoding('latin1');
      socket.on('error', reject);
      socket.once('connect', () => socket.write('MONITOR\r\n'));
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\r\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          if (!monitoring) {
            if (line !== '+OK') {
              socket.destroy();
              reject(new Error(`Redis answered MONITOR with ${line}`));
              return;
            }
            monitoring = true;
            resolve(new RedisMonitor(socket));
          } else {
            onCommand(parseMonitorLine(line));
          }
        }
      });
    });
  }

  stop(): void {
    this.socket.destroy();
  }
}
