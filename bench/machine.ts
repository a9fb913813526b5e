import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, totalmem } from 'node:os';
import Redis from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { KAFKA_VERSION } from '../scripts/kafka/local-kafka';
import { envelope, EventStream } from './stream';

export interface Machine {
  cpus: number;
  cpuModel: string;
  ramGiB: number;
  node: string;
  mariadb: string;
  redis: string;
  kafka: string;
  /** Taken at the start of the run, to compare hosts: their speeds differed up to 4x. */
  yardsticks?: Yardsticks;
}

export interface Yardsticks {
  /** One PING to Redis and its answer over loopback TCP, one after another: wall µs. */
  redisPingUs: number;
  /** This process's CPU per PING round trip, µs: what a socket round trip costs a client here. */
  redisPingCpuUs: number;
  /** JSON.parse of one of the bench's product events, µs of CPU. */
  jsonParseUs: number;
}

const PINGS = 5000;
const PARSES = 100_000;
const PING = 'PING\r\n';
const PONG = '+PONG\r\n';

/** A product upsert as the bench sends it. */
function sampleEvent(): string {
  const event = new EventStream(1000)
    .next(1000)
    .find((e) => e.kind === 'product' && e.action !== 'deleted');
  if (event === undefined) throw new Error('the stream has no product upsert');
  return envelope(event, '00000000');
}

const cpuMicros = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

/** Sequential PINGs on a raw socket, so the figure is the host's round trip and not a client's. */
function pingRedis(redis: {
  host: string;
  port: number;
}): Promise<{ wallUs: number; cpuUs: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(redis.port, redis.host);
    socket.setNoDelay(true);
    let answered = 0;
    let pending = '';
    let wallStart = 0n;
    let cpuStart = 0;
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`Redis closed the socket after ${answered} PINGs`)));
    socket.on('connect', () => {
      wallStart = process.hrtime.bigint();
      cpuStart = cpuMicros();
      socket.write(PING);
    });
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      while (pending.startsWith(PONG)) {
        pending = pending.slice(PONG.length);
        answered++;
        if (answered === PINGS) {
          const wallUs = Number(process.hrtime.bigint() - wallStart) / 1000 / PINGS;
          const cpuUs = (cpuMicros() - cpuStart) / PINGS;
          socket.destroy();
          resolve({ wallUs, cpuUs });
          return;
        }
        socket.write(PING);
      }
    });
  });
}

function jsonParseMicros(): number {
  const text = sampleEvent();
  let keep = 0;
  const start = cpuMicros();
  for (let i = 0; i < PARSES; i++) {
    keep += (JSON.parse(text) as { version: number }).version;
  }
  const micros = (cpuMicros() - start) / PARSES;
  // Using the parsed values keeps the compiler from dropping the parses as dead code.
  return keep > 0 ? micros : Number.NaN;
}

async function measureYardsticks(redis: { host: string; port: number }): Promise<Yardsticks> {
  const ping = await pingRedis(redis);
  return { redisPingUs: ping.wallUs, redisPingCpuUs: ping.cpuUs, jsonParseUs: jsonParseMicros() };
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
    yardsticks: await measureYardsticks(redisUrl),
  };
}

export function machineLine(m: Machine): string {
  const y = m.yardsticks;
  const yardsticks =
    y === undefined
      ? ''
      : `; yardsticks: Redis PING round trip ${y.redisPingUs.toFixed(1)} µs (${y.redisPingCpuUs.toFixed(1)} µs of client CPU), JSON.parse of a product event ${y.jsonParseUs.toFixed(2)} µs`;
  return `${m.cpus} CPUs (${m.cpuModel}), ${m.ramGiB} GiB RAM; Node ${m.node}, MariaDB ${m.mariadb}, Redis ${m.redis}, Kafka ${m.kafka}; all on loopback${yardsticks}`;
}
