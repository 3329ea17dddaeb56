import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy in front of a real server, to make its connections fail in chosen ways. */
export interface TcpProxy {
  /** The target's URL with the proxy's address in it. */
  url: string;
  port: number;
  /**
   * From now on bytes are held both ways and no connection is closed: a silent peer (a dead node,
   * a partition) until `thaw`, which delivers what was held.
   */
  freeze(): void;
  thaw(): void;
  /**
   * The next time a client sends bytes containing `marker`, the server's answer to them is
   * swallowed and both connections are dropped: the request ran, its answer is lost. With
   * `answerMarker`, the server's bytes pass until the first chunk containing it (answers to
   * requests sent in the same breath before the one whose answer is lost).
   */
  loseNextAnswer(marker: string, answerMarker?: string): void;
  /**
   * How many times clients have sent `marker` since this call, over every connection, counted as
   * the proxy receives them (also while frozen); a marker split between two chunks counts.
   */
  countSent(marker: string): () => number;
  close(): Promise<void>;
}

/** The listening side of a TCP proxy: each client's connection is paired with one to the target. */
export interface TcpProxyListener {
  /** The target's URL with the proxy's address in it. */
  url: string;
  port: number;
  /** Drops every connection, as a network failure would. */
  dropAll(): void;
  close(): Promise<void>;
}

/**
 * Listens on a free local port and connects each client to `target`; `relay` decides what passes
 * between the two sockets. Either closing closes the other, but a client the relay ended
 * (`client.end(bytes)`) still gets to read the bytes written to it.
 */
export async function listenTcpProxy(
  target: string,
  relay: (client: Socket, upstream: Socket) => void,
): Promise<TcpProxyListener> {
  const targetUrl = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(targetUrl.port), targetUrl.hostname);
    sockets.add(client).add(upstream);
    for (const socket of [client, upstream]) {
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        if (!client.writableEnded) client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: url.toString(),
    port,
    dropAll,
    close: async () => {
      dropAll();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  let frozen = false;
  const held: (() => void)[] = [];
  let armed: { marker: string; answerMarker: string | undefined } | undefined;
  const counters: { marker: string; seen: number }[] = [];
  const pass = (send: () => void) => (frozen ? held.push(send) : send());
  const listener = await listenTcpProxy(target, (client, upstream) => {
    // Set once this connection sent the marker: the answer it waits for is the one to lose.
    let losing: { answerMarker: string | undefined } | undefined;
    // The end of the previous chunk, so a counted marker split between two is seen.
    let tail = '';
    client.on('data', (chunk: Buffer) => {
      if (counters.length > 0) {
        const text = tail + chunk.toString('latin1');
        for (const counter of counters) counter.seen += text.split(counter.marker).length - 1;
        const longest = Math.max(...counters.map((c) => c.marker.length));
        tail = text.slice(Math.max(0, text.length - (longest - 1)));
      }
      if (armed && chunk.includes(armed.marker)) {
        losing = armed;
        armed = undefined;
      }
      pass(() => upstream.destroyed || upstream.write(chunk));
    });
    upstream.on('data', (chunk) => {
      const lost = losing && (!losing.answerMarker || chunk.includes(losing.answerMarker));
      if (!lost) return pass(() => client.destroyed || client.write(chunk));
      client.destroy();
      upstream.destroy();
    });
  });
  return {
    url: listener.url,
    port: listener.port,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const send of held.splice(0)) send();
    },
    loseNextAnswer: (marker, answerMarker) => {
      armed = { marker, answerMarker };
    },
    countSent: (marker) => {
      const counter = { marker, seen: 0 };
      counters.push(counter);
      return () => counter.seen;
    },
    close: listener.close,
  };
}
