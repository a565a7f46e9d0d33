import WebSocket from 'ws';

/**
 * A process started with --inspect=127.0.0.1:<port>, driven through the
 * Chrome DevTools Protocol: for tests that must read its memory when no
 * garbage is left (what it keeps, not what its collector has not got to).
 */
export class Inspected {
  private next = 1;

  private constructor(private readonly socket: WebSocket) {}

  static async connect(port: number): Promise<Inspected> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
      webSocketDebuggerUrl: string;
    }>;
    const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
    await new Promise<void>((done, fail) => {
      socket.once('open', () => done());
      socket.once('error', fail);
    });
    return new Inspected(socket);
  }

  /** Sends one command and waits for its answer. */
  private command(method: string): Promise<void> {
    const id = this.next++;
    return new Promise((done, fail) => {
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(textOf(data)) as { id?: number; error?: { message: string } };
        if (message.id !== id) return;
        this.socket.off('message', onMessage);
        if (message.error) fail(new Error(message.error.message));
        else done();
      };
      this.socket.on('message', onMessage);
      this.socket.send(JSON.stringify({ id, method }));
    });
  }

  /** A full garbage collection, twice: the second frees what the first's finalizers released. */
  async collectGarbage(): Promise<void> {
    await this.command('HeapProfiler.collectGarbage');
    await this.command('HeapProfiler.collectGarbage');
  }

  close(): void {
    this.socket.close();
  }
}

/** A message's text: the protocol sends JSON in text frames. */
const textOf = (data: WebSocket.RawData): string =>
  Array.isArray(data)
    ? Buffer.concat(data).toString()
    : Buffer.isBuffer(data)
      ? data.toString()
      : Buffer.from(new Uint8Array(data)).toString();
