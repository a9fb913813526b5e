import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import Redis from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { KAFKA_VERSION } from '../scripts/kafka/local-kafka';

export interface Machine {
  cpus: number;
  cpuModel: string;
  ramGiB: number;
  node: string;
  mariadb: string;
  redis: string;
  kafka: string;
}

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The running broker's version from its class path (jar or libs folder); the pinned one otherwise. */
function kafkaVersion(): string {
  try {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!cmdline.includes('kafka.Kafka')) continue;
      const version = /kafka(?:_[\d.]+)?-(\d+\.\d+\.\d+)(?:\.jar|\/libs)/.exec(cmdline)?.[1];
      if (version) return version;
    }
  } catch {
    // /proc not readable: fall through to the pin.
  }
  return `${KAFKA_VERSION} (pinned by services:up)`;
}

export async function describeMachine(
  db: Connection,
  redisUrl: { host: string; port: number },
): Promise<Machine> {
  const [rows] = await db.query('SELECT VERSION() AS v');
  const redis = new Redis({ ...redisUrl, lazyConnect: true, maxRetriesPerRequest: 1 });
  let redisVersion = 'unknown';
  try {
    await redis.connect();
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
  return {
    cpus: availableParallelism(),
    cpuModel: cpuModel(),
    ramGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    mariadb: String((rows as { v: string }[])[0]?.v ?? 'unknown'),
    redis: redisVersion,
    kafka: kafkaVersion(),
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpus} CPUs (${m.cpuModel}), ${m.ramGiB} GiB RAM; Node ${m.node}, MariaDB ${m.mariadb}, Redis ${m.redis}, Kafka ${m.kafka}; all on loopback`;
}
