import { isIP, connect as connectPlain, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

/** kafkajs' own keep-alive delay. */
const KEEP_ALIVE_DELAY_MS = 60_000;
/** Kafka's JoinGroup: the broker holds it until every member rejoined, up to the rebalance timeout. */
const JOIN_GROUP_API_KEY = 11;
const JOIN_GROUP_DEADLINE_MS = 300_000;
const CHECK_EVERY_MS = 500;

/** One open broker connection: when it last heard from the broker. */
interface WatchedSocket {
  readonly socket: Socket;
  lastHeardAt: number;
}

/**
 * Every open broker connection of the process, by address. kafkajs keeps several to one broker
 * (two per client, plus its seed broker's), and an idle one that went silent is found out only
 * when a request is sent on it: after a failover that was one deadline after another, each
 * connection in turn, with the group rejoining in between.
 */
const openByAddress = new Map<string, Set<WatchedSocket>>();

/**
 * A request on `stuck` went unanswered from `since` until its deadline: every other connection to
 * that address that was open then and has not heard from the broker since is as silent, and is
 * dropped with it, so that kafkajs reconnects all of them at once.
 */
function dropSilentSiblings(address: string, stuck: WatchedSocket, since: number, why: string) {
  for (const other of openByAddress.get(address) ?? []) {
    if (other !== stuck && other.lastHeardAt < since) {
      other.socket.destroy(
        new Error(
          `${why} on another connection to ${address}, and this one has been silent as long`,
        ),
      );
    }
  }
}

/**
 * Watches one broker connection: every request kafkajs writes is one size-prefixed frame, every
 * answer one too, and the broker answers a connection's requests in order. When the oldest
 * unanswered request is older than its deadline the socket is destroyed, so that kafkajs fails
 * what is in flight with a connection error (retriable) and connects again. kafkajs' own
 * requestTimeout only rejects the request and keeps the socket, so a broker connection that went
 * silent (a failover's old address, a partition) is retried on for ever.
 */
function watchAnswers(socket: Socket, address: string, deadlineMs: number): void {
  const watched: WatchedSocket = { socket, lastHeardAt: performance.now() };
  const open = openByAddress.get(address) ?? new Set<WatchedSocket>();
  openByAddress.set(address, open.add(watched));
  const unanswered: { sentAt: number; deadline: number }[] = [];
  let answerBytesLeft = 0;
  let header = Buffer.alloc(0);
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = (chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk) && chunk.length >= 6) {
      const apiKey = chunk.readInt16BE(4);
      const sentAt = performance.now();
      unanswered.push({
        sentAt,
        deadline: sentAt + (apiKey === JOIN_GROUP_API_KEY ? JOIN_GROUP_DEADLINE_MS : deadlineMs),
      });
    }
    return write(chunk, ...rest);
  };
  socket.on('data', (data: Buffer) => {
    watched.lastHeardAt = performance.now();
    let at = 0;
    while (at < data.length) {
      if (answerBytesLeft > 0) {
        const take = Math.min(answerBytesLeft, data.length - at);
        answerBytesLeft -= take;
        at += take;
        if (answerBytesLeft === 0) unanswered.shift();
        continue;
      }
      const need = 4 - header.length;
      header = Buffer.concat([header, data.subarray(at, at + need)]);
      at += Math.min(need, data.length - at);
      if (header.length === 4) {
        answerBytesLeft = header.readInt32BE(0);
        header = Buffer.alloc(0);
        if (answerBytesLeft === 0) unanswered.shift();
      }
    }
  });
  const timer = setInterval(
    () => {
      const oldest = unanswered[0];
      if (oldest !== undefined && performance.now() > oldest.deadline) {
        const why = `the broker did not answer a request within ${oldest.deadline - oldest.sentAt} ms`;
        socket.destroy(new Error(why));
        dropSilentSiblings(address, watched, oldest.sentAt, why);
      }
    },
    Math.min(CHECK_EVERY_MS, deadlineMs),
  ).unref();
  socket.once('close', () => {
    clearInterval(timer);
    open.delete(watched);
    if (open.size === 0 && openByAddress.get(address) === open) openByAddress.delete(address);
  });
}

/** kafkajs' default socket factory plus an answer deadline on every broker connection. */
export function brokerSocketFactory(deadlineMs: number): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? connectTls(
          { host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...ssl },
          onConnect,
        )
      : connectPlain({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
    watchAnswers(socket, `${host}:${port}`, deadlineMs);
    return socket;
  };
}
