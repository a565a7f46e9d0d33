import { createServer, Server, Socket } from 'node:net';
import { SERVER_URL, cloneTemplate, directUrl } from './databases';

/** A TCP relay to PostgreSQL that the test can cut, to play a database outage. */
export class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<Relay> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const relay = new Relay(port, target);
    await relay.up();
    return relay;
  }

  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** A fresh clone of the template database, reached through a relay the test can cut. */
export async function relayedDatabase(): Promise<{ database: string; relay: Relay; url: string }> {
  const database = await cloneTemplate();
  const server = new URL(SERVER_URL!);
  const relay = await Relay.start({ host: server.hostname, port: Number(server.port || 5432) });
  const url = new URL(directUrl(database));
  url.host = `127.0.0.1:${relay.port}`;
  return { database, relay, url: url.toString() };
}
