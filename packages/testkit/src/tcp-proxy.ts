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
   * swallowed and both connections are dropped: the request ran, its answer is lost.
   */
  loseNextAnswer(marker: string): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const targetUrl = new URL(target);
  let frozen = false;
  const held: (() => void)[] = [];
  let marker: string | undefined;
  const sockets = new Set<Socket>();
  const pass = (send: () => void) => (frozen ? held.push(send) : send());
  const server = createServer((client) => {
    const upstream = connect(Number(targetUrl.port), targetUrl.hostname);
    sockets.add(client).add(upstream);
    let answerToLose = false;
    client.on('data', (chunk) => {
      if (marker !== undefined && chunk.includes(marker)) {
        marker = undefined;
        answerToLose = true;
      }
      pass(() => upstream.destroyed || upstream.write(chunk));
    });
    upstream.on('data', (chunk) => {
      if (!answerToLose) return pass(() => client.destroyed || client.write(chunk));
      client.destroy();
      upstream.destroy();
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => {});
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    port,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const send of held.splice(0)) send();
    },
    loseNextAnswer: (naming) => {
      marker = naming;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
