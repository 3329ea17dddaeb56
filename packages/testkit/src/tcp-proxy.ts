import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy in front of a real server, to make its connections fail in chosen ways. */
export interface TcpProxy {
  /** The target's URL with the proxy's address in it. */
  url: string;
  /** From now on nothing passes either way, and no connection is closed: a silent peer. */
  silence(): void;
  /**
   * The next time a client sends bytes containing `marker`, the server's answer to them is
   * swallowed and both connections are dropped: the request ran, its answer is lost.
   */
  loseNextAnswer(marker: string): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const targetUrl = new URL(target);
  let silenced = false;
  let marker: string | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(targetUrl.port), targetUrl.hostname);
    sockets.add(client).add(upstream);
    let answerToLose = false;
    client.on('data', (chunk) => {
      if (silenced) return;
      if (marker !== undefined && chunk.includes(marker)) {
        marker = undefined;
        answerToLose = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (silenced) return;
      if (!answerToLose) return void client.write(chunk);
      client.destroy();
      upstream.destroy();
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => {});
      socket.on('close', () => {
        if (silenced) return;
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
    silence: () => {
      silenced = true;
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
