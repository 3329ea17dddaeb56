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
 * tcp6): `127.0.0.1`, `0.0.0.0`, `::1`, `::`, `::ffff:127.0.0.1` (an IPv6 socket bound to an
 * IPv4 address), or an IPv6 address as eight groups.
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
      if (Number.parseInt(hexPort, 16) === port) addresses.push(procAddress(address));
    }
  }
  return addresses;
}

/**
 * An address as /proc/net prints it, in text: 32-bit words of hex, each in the machine's
 * (little-endian) byte order.
 */
export function procAddress(hex: string): string {
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap((word) =>
    (word.match(/../g) ?? []).reverse().map((pair) => Number.parseInt(pair, 16)),
  );
  if (bytes.length === 4) return bytes.join('.');
  const mapped =
    bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) =>
    (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16),
  ).join(':');
  return { '0:0:0:0:0:0:0:0': '::', '0:0:0:0:0:0:0:1': '::1' }[groups] ?? groups;
}

/** Whether every address `listeningAddresses` names is a loopback one. */
export function loopbackOnly(addresses: readonly string[]): boolean {
  return addresses.every(
    (address) =>
      address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'),
  );
}
