import { connect, createServer, type Socket } from 'node:net';

/** A TCP pass-through in front of a server that counts what its clients send. */
export interface MarkerCounter {
  /** The target's URL with the pass-through's address in it. */
  url: string;
  /** How many times clients have sent the marker so far, over every connection. */
  count(): number;
  close(): Promise<void>;
}

/** Counts `marker` in the bytes clients send `target` (Redis commands naming a key prefix, say). */
export async function startMarkerCounter(target: string, marker: string): Promise<MarkerCounter> {
  const targetUrl = new URL(target);
  let seen = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(targetUrl.port), targetUrl.hostname);
    sockets.add(client).add(upstream);
    // The end of the previous chunk, in case the marker is split between two.
    let tail = '';
    client.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      seen += text.split(marker).length - 1;
      tail = text.slice(text.length - (marker.length - 1));
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    for (const socket of [client, upstream]) {
      socket.on('error', () => {});
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    count: () => seen,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
