import fs from 'node:fs';
import net from 'node:net';

// Below Linux's ephemeral range (32768 and up): a port the kernel picks for `listen(0)` may become
// the local port of one of the many outgoing connections opened while servers start, and the
// server that was handed it then fails to listen (EADDRINUSE).
const LOW = 20_000;
const HIGH = 32_000;
const handedOut = new Set<number>();

/** A loopback TCP port nothing listens on, outside the range outgoing connections draw from. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
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

/** Resolves once something accepts TCP connections on the port, or rejects after the timeout. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}

/** TCP state `LISTEN` in /proc/net/tcp. */
const LISTEN = '0A';

/**
 * The local addresses sockets listen on at `port` on this machine (Linux's /proc/net/tcp and
 * tcp6), as `/proc` prints them: `127.0.0.1`, `0.0.0.0`, `::1`, `::` for the usual ones, the hex
 * for others.
 */
export function listeningAddresses(port: number): string[] {
  const addresses: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = fs.readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of table.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== LISTEN) continue;
      const [address = '', hexPort = ''] = local.split(':');
      if (Number.parseInt(hexPort, 16) === port)
        addresses.push(KNOWN_ADDRESSES[address] ?? address);
    }
  }
  return addresses;
}

const KNOWN_ADDRESSES: Readonly<Record<string, string>> = {
  '0100007F': '127.0.0.1',
  '00000000': '0.0.0.0',
  '00000000000000000000000001000000': '::1',
  '00000000000000000000000000000000': '::',
};

/** Whether every address `listeningAddresses` names is a loopback one. */
export function loopbackOnly(addresses: readonly string[]): boolean {
  return addresses.every((address) => address === '127.0.0.1' || address === '::1');
}
