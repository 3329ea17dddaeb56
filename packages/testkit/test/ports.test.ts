import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, listeningAddresses, loopbackOnly } from '../src/index.ts';
import { procAddress } from '../src/ports.ts';

describe('freePort', () => {
  it('hands out distinct listenable ports below the ephemeral range', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) expect(port).toBeLessThan(32_768);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('listeningAddresses', () => {
  it('names the addresses sockets listen on, loopback or not', async () => {
    const listen = (port: number, host?: string) =>
      new Promise<net.Server>((resolve) => {
        const server = net.createServer();
        server.listen({ port, ...(host && { host }), ipv6Only: host === '::' }, () =>
          resolve(server),
        );
      });
    const [v4, any, v6, mapped] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const servers = await Promise.all([
      listen(v4, '127.0.0.1'),
      listen(any, '0.0.0.0'),
      listen(v6, '::1'),
      listen(mapped, '::ffff:127.0.0.1'),
    ]);
    try {
      expect(listeningAddresses(v4)).toEqual(['127.0.0.1']);
      expect(listeningAddresses(any)).toEqual(['0.0.0.0']);
      expect(listeningAddresses(v6)).toEqual(['::1']);
      expect(listeningAddresses(mapped)).toEqual(['::ffff:127.0.0.1']);
      expect(loopbackOnly(listeningAddresses(v4))).toBe(true);
      expect(loopbackOnly(listeningAddresses(v6))).toBe(true);
      expect(loopbackOnly(listeningAddresses(mapped))).toBe(true);
      expect(loopbackOnly(listeningAddresses(any))).toBe(false);
    } finally {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });

  it('reads /proc/net addresses, their words in little-endian order', () => {
    expect(procAddress('0100007F')).toBe('127.0.0.1');
    expect(procAddress('00000000000000000000000000000000')).toBe('::');
    expect(procAddress('00000000000000000000000001000000')).toBe('::1');
    expect(procAddress('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
    expect(procAddress('B80D0120000000000000000001000000')).toBe('2001:db8:0:0:0:0:0:1');
  });
});
