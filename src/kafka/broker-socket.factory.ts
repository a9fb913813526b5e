import { isIP, connect as connectPlain, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

/** kafkajs' own keep-alive delay. */
const KEEP_ALIVE_DELAY_MS = 60_000;
/** Kafka's JoinGroup: the broker holds it until every member rejoined, up to the rebalance timeout. */
const JOIN_GROUP_API_KEY = 11;
const JOIN_GROUP_DEADLINE_MS = 300_000;
const CHECK_EVERY_MS = 500;

/**
 * Watches one broker connection: every request kafkajs writes is one size-prefixed frame, every
 * answer one too, and the broker answers a connection's requests in order. When the oldest
 * unanswered request is older than its deadline the socket is destroyed, so that kafkajs fails
 * what is in flight with a connection error (retriable) and connects again. kafkajs' own
 * requestTimeout only rejects the request and keeps the socket, so a broker connection that went
 * silent (a failover's old address, a partition) is retried on for ever.
 */
function watchAnswers(socket: Socket, deadlineMs: number): void {
  const unanswered: number[] = [];
  let answerBytesLeft = 0;
  let header = Buffer.alloc(0);
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = (chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk) && chunk.length >= 6) {
      const apiKey = chunk.readInt16BE(4);
      unanswered.push(
        Date.now() + (apiKey === JOIN_GROUP_API_KEY ? JOIN_GROUP_DEADLINE_MS : deadlineMs),
      );
    }
    return write(chunk, ...rest);
  };
  socket.on('data', (data: Buffer) => {
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
  const timer = setInterval(() => {
    const oldest = unanswered[0];
    if (oldest !== undefined && Date.now() > oldest) {
      socket.destroy(new Error(`the broker did not answer a request within ${deadlineMs} ms`));
    }
  }, CHECK_EVERY_MS).unref();
  socket.once('close', () => clearInterval(timer));
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
    watchAnswers(socket, deadlineMs);
    return socket;
  };
}
