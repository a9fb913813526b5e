import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ISocketFactoryArgs } from 'kafkajs';
import { brokerSocketFactory } from './broker-socket.factory';

const DEADLINE_MS = 300;
const METADATA_API_KEY = 3;
/** What kafkajs hands the factory for a broker without TLS. */
const PLAINTEXT = undefined as unknown as ISocketFactoryArgs['ssl'];

/** One Kafka-style request frame: a 4-byte size, then api key, version and correlation id. */
function request(correlationId: number): Buffer {
  const frame = Buffer.alloc(12);
  frame.writeInt32BE(8, 0);
  frame.writeInt16BE(METADATA_API_KEY, 4);
  frame.writeInt16BE(0, 6);
  frame.writeInt32BE(correlationId, 8);
  return frame;
}

/**
 * A stand-in broker on loopback that answers every request frame with a 4-byte answer, except on
 * connections it was told to freeze: those take requests and never answer, like the old path of
 * a failover.
 */
class FakeBroker {
  private readonly server: Server;
  private readonly frozen = new Set<Socket>();
  private readonly open = new Set<Socket>();

  constructor() {
    this.server = createServer((socket) => {
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
      socket.on('data', (data: Buffer) => {
        if (this.frozen.has(socket)) return;
        for (let at = 0; at + 12 <= data.length; at += 12) {
          const answer = Buffer.alloc(8);
          answer.writeInt32BE(4, 0);
          answer.writeInt32BE(data.readInt32BE(at + 8), 4);
          socket.write(answer);
        }
      });
    });
  }

  async start(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  freezeExisting(): void {
    for (const socket of this.open) this.frozen.add(socket);
  }

  async stop(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }
}

describe('brokerSocketFactory', () => {
  const brokers: FakeBroker[] = [];
  const sockets: Socket[] = [];
  const factory = brokerSocketFactory(DEADLINE_MS);

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const broker of brokers.splice(0)) await broker.stop();
  });

  async function startBroker(): Promise<{ broker: FakeBroker; port: number }> {
    const broker = new FakeBroker();
    brokers.push(broker);
    return { broker, port: await broker.start() };
  }

  async function connect(port: number): Promise<Socket> {
    let connected!: () => void;
    const ready = new Promise<void>((resolve) => (connected = resolve));
    const socket = factory({
      host: '127.0.0.1',
      port,
      ssl: PLAINTEXT,
      onConnect: () => connected(),
    });
    sockets.push(socket);
    await ready;
    return socket;
  }

  async function roundTrip(socket: Socket, correlationId: number): Promise<void> {
    const answered = once(socket, 'data');
    socket.write(request(correlationId));
    await answered;
  }

  function closed(socket: Socket): Promise<Error | undefined> {
    return new Promise((resolve) => {
      let error: Error | undefined;
      socket.once('error', (err) => (error = err));
      socket.once('close', () => resolve(error));
    });
  }

  it('keeps a connection whose broker answers within the deadline', async () => {
    const { port } = await startBroker();
    const socket = await connect(port);
    for (let i = 1; i <= 3; i++) await roundTrip(socket, i);
    await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS * 2));
    expect(socket.destroyed).toBe(false);
  });

  it('drops a connection whose request goes unanswered past the deadline, with the reason', async () => {
    const { broker, port } = await startBroker();
    const socket = await connect(port);
    await roundTrip(socket, 1);
    broker.freezeExisting();
    const gone = closed(socket);
    socket.write(request(2));
    const error = await gone;
    expect(error?.message).toBe(`the broker did not answer a request within ${DEADLINE_MS} ms`);
  });

  it('drops with it the connections to that broker that have been silent as long, and only those', async () => {
    const { broker, port } = await startBroker();
    const { port: otherPort } = await startBroker();
    // Sends the request that goes unanswered.
    const stuck = await connect(port);
    // Open before the freeze and idle since: kafkajs would find it silent only when it used it.
    const idle = await connect(port);
    await roundTrip(idle, 1);
    // Idle too, but to another broker: not the same path.
    const otherBroker = await connect(otherPort);
    broker.freezeExisting();
    const stuckGone = closed(stuck);
    const idleGone = closed(idle);
    stuck.write(request(2));
    // Opened after the freeze and answered since the stuck request was sent: the new path.
    const fresh = await connect(port);
    await roundTrip(fresh, 3);

    await stuckGone;
    const idleError = await idleGone;
    expect(idleError?.message).toBe(
      `the broker did not answer a request within ${DEADLINE_MS} ms on another connection to ` +
        `127.0.0.1:${port}, and this one has been silent as long`,
    );
    expect(fresh.destroyed).toBe(false);
    expect(otherBroker.destroyed).toBe(false);
    await roundTrip(fresh, 4);
  });
});
