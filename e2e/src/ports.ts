import net from 'node:net';

// Below Linux's ephemeral range (32768 and up): a port the kernel picks for `listen(0)` may become
// the local port of one of the many outgoing connections the services open while they start, and
// a service then fails to listen on it (EADDRINUSE).
const LOW = 20_000;
const HIGH = 32_000;
const handedOut = new Set<number>();

/** A loopback port nothing listens on, outside the range outgoing connections take theirs from. */
export async function listenablePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${LOW} and ${HIGH}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
