import { createServer, connect, type Server, type Socket } from 'node:net';

type PairState = 'forward' | 'held' | 'dead';

/** One client connection and the upstream connection it is forwarded to (none yet while held). */
class ProxiedPair {
  state: PairState = 'forward';
  upstream: Socket | undefined;

  constructor(
    readonly client: Socket,
    private readonly targetPort: number,
  ) {
    client.on('error', () => undefined);
    client.on('close', () => {
      if (this.state === 'forward') this.upstream?.destroy();
    });
  }

  /** Connects upstream (once) and forwards both ways, delivering whatever was held. */
  forward(): void {
    this.state = 'forward';
    if (this.upstream === undefined) {
      const upstream = connect({ host: '127.0.0.1', port: this.targetPort });
      upstream.on('error', () => undefined);
      upstream.on('close', () => {
        if (this.state === 'forward') this.client.destroy();
      });
      this.upstream = upstream;
    }
    this.client.pipe(this.upstream);
    this.upstream.pipe(this.client);
  }

  /** Stops reading both sides: bytes and closes stay in the sockets' buffers until `forward`. */
  hold(): void {
    this.state = 'held';
    this.client.unpipe();
    this.client.pause();
    this.upstream?.unpipe();
    this.upstream?.pause();
  }

  /**
   * The service's side goes silent for good and is never closed; the upstream side is closed, as
   * when a failover's old server is gone (its sessions end and their locks are released).
   */
  kill(): void {
    this.hold();
    this.state = 'dead';
    this.upstream?.destroy();
  }

  destroy(): void {
    this.state = 'dead';
    this.client.destroy();
    this.upstream?.destroy();
  }
}

/**
 * A TCP proxy of the tests' own between the service and a private dependency, to make that
 * dependency stop answering without resetting anything:
 * - `freezeExisting()`: a failover whose old address drops packets: every open connection stops
 *   forwarding for good (the service's side is never closed), while new connections get through;
 * - `freezeAll()` then `thaw()`: a network partition: nothing is forwarded and new connections
 *   are accepted but not connected upstream; on thaw the held bytes are delivered and forwarding
 *   resumes.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<ProxiedPair>();
  private frozen = false;
  /** Connections accepted so far: tests read it to see that the service reconnected. */
  accepted = 0;

  constructor(
    readonly port: number,
    readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      this.accepted++;
      const pair = new ProxiedPair(client, this.targetPort);
      this.pairs.add(pair);
      client.on('close', () => {
        if (pair.state === 'forward') this.pairs.delete(pair);
      });
      if (this.frozen) pair.hold();
      else pair.forward();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  freezeExisting(): void {
    for (const pair of this.pairs) if (pair.state !== 'dead') pair.kill();
  }

  freezeAll(): void {
    this.frozen = true;
    for (const pair of this.pairs) if (pair.state === 'forward') pair.hold();
  }

  thaw(): void {
    this.frozen = false;
    for (const pair of this.pairs) if (pair.state === 'held') pair.forward();
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) pair.destroy();
    this.pairs.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
