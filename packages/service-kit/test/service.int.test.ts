import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createApp, runService } from '../src/index.ts';

async function connectionRefused(address: string): Promise<boolean> {
  try {
    await fetch(`${address}/healthz`, { headers: { connection: 'close' } });
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  }
}

/** A GET through `agent`, telling whether it went over a connection opened before. */
function get(
  agent: http.Agent,
  url: string,
): Promise<{ status: number; body: string; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, reusedSocket: request.reusedSocket }),
      );
    });
    request.on('error', reject);
  });
}

/**
 * A service serving `/work` with a drain long enough for a test's calls on a loaded machine (the
 * test waits it out once); `events` hears 'closed' when it closes, and what `onDrain` pushes.
 */
function runDraining(events: string[], onDrain: (() => unknown)[] = []) {
  const app = createApp({ name: 'drain', logger: pino({ level: 'silent' }) });
  app.get('/work', async () => ({ done: true }));
  return runService({
    app,
    port: 0,
    host: '127.0.0.1',
    drainMs: 3_000,
    onDrain,
    onClose: [() => events.push('closed')],
  });
}

describe('runService', () => {
  it('on stop() fails /readyz first and keeps serving for drainMs, then closes', async () => {
    const events: string[] = [];
    const service = await runDraining(events);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(agent, `${service.address}/readyz`);
    expect(before.status).toBe(200);

    const stopped = service.stop();
    // A load balancer probing over the connection it already holds hears "not ready"...
    const readiness = await get(agent, `${service.address}/readyz`);
    expect(readiness.reusedSocket).toBe(true);
    expect(readiness.status).toBe(503);
    expect(JSON.parse(readiness.body)).toMatchObject({ code: 'SHUTTING_DOWN' });
    // ...while requests it still routes here, on open or new connections, are served.
    const onOpen = get(agent, `${service.address}/work`);
    const onNew = await fetch(`${service.address}/work`);
    expect(onNew.status).toBe(200);
    expect((await onOpen).status).toBe(200);
    expect(await connectionRefused(service.address)).toBe(false);
    expect(events).toEqual([]);

    await stopped;
    expect(events).toEqual(['closed']);
    expect(await connectionRefused(service.address)).toBe(true);
    agent.destroy();
  });

  it('on stop() runs onDrain at once, while /readyz fails and requests are still served', async () => {
    const events: string[] = [];
    const service = await runDraining(events, [
      () => events.push('consumers stop taking'),
      async () => events.push('sweep'),
    ]);

    const stopped = service.stop();
    // Consumers must not take work for the whole drain: they stop as the shutdown starts...
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['consumers stop taking', 'sweep']);
    // ...while the drain still goes on.
    expect((await fetch(`${service.address}/readyz`)).status).toBe(503);
    expect((await fetch(`${service.address}/work`)).status).toBe(200);
    expect(events).toEqual(['consumers stop taking', 'sweep']);

    await stopped;
    expect(events).toEqual(['consumers stop taking', 'sweep', 'closed']);
  });

  it('a failing onDrain hook is logged and the shutdown goes on to the next hooks and the close', async () => {
    const events: string[] = [];
    const app = createApp({ name: 'drain', logger: pino({ level: 'silent' }) });
    const service = await runService({
      app,
      port: 0,
      host: '127.0.0.1',
      drainMs: 50,
      onDrain: [
        async () => {
          throw new Error('the broker is gone');
        },
        () => events.push('sweep'),
      ],
      onClose: [() => events.push('closed')],
    });

    await service.stop();
    expect(events).toEqual(['sweep', 'closed']);
    await expect(fetch(`${service.address}/readyz`)).rejects.toThrow();
  });

  it('a failing onClose hook is logged, the next ones still run, and stop() then rejects', async () => {
    const events: string[] = [];
    const app = createApp({ name: 'close', logger: pino({ level: 'silent' }) });
    const service = await runService({
      app,
      port: 0,
      host: '127.0.0.1',
      onClose: [
        async () => {
          throw new Error('relay stop failed');
        },
        () => events.push('broker'),
        () => events.push('pools'),
      ],
    });

    await expect(service.stop()).rejects.toThrow('1 close hook(s) failed');
    expect(events).toEqual(['broker', 'pools']);
    await expect(fetch(`${service.address}/readyz`)).rejects.toThrow();
  });

  it('a client stalling its request does not keep the close waiting: onClose still runs', async () => {
    const events: string[] = [];
    // The default request timeout (30 s) is far off: only the close deadline ends the request.
    const app = createApp({ name: 'stalled', logger: pino({ level: 'silent' }) });
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    // Its headers arrived: the request is in flight, waiting for its body.
    app.addHook('onRequest', async () => arrived());
    app.post('/v1/things', async () => ({ ok: true }));
    const service = await runService({
      app,
      port: 0,
      host: '127.0.0.1',
      // Connections still open are closed a quarter of it before the end, here after 1.5 s.
      graceMs: 2_000,
      onClose: [() => events.push('consumers'), () => events.push('pools')],
    });
    const socket = net.connect(Number(new URL(service.address).port), '127.0.0.1');
    socket.on('error', () => undefined);
    const socketClosed = once(socket, 'close');
    socket.write(
      'POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"',
    );
    await requestArrived;

    await service.stop();
    expect(events).toEqual(['consumers', 'pools']);
    await socketClosed;
  }, 10_000);

  it('stop() drains an in-flight request, then runs onClose hooks in order', async () => {
    const events: string[] = [];
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });

    const app = createApp({ name: 'drain', logger: pino({ level: 'silent' }) });
    app.get('/slow', async () => {
      entered();
      await released;
      events.push('request finished');
      return { done: true };
    });
    const service = await runService({
      app,
      port: 0,
      host: '127.0.0.1',
      onClose: [
        async () => events.push('consumers'),
        async () => events.push('relay'),
        () => events.push('pools'),
      ],
    });

    const inFlight = fetch(`${service.address}/slow`);
    await inHandler;
    const stopped = service.stop();

    // The listener is gone while the slow request is still being served.
    for (let i = 0; i < 100 && !(await connectionRefused(service.address)); i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await connectionRefused(service.address)).toBe(true);
    expect(events).toEqual([]);

    release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    await stopped;
    expect(events).toEqual(['request finished', 'consumers', 'relay', 'pools']);
  });

  it('on SIGTERM fails /readyz, finishes the in-flight request, runs the hooks in order and exits 0', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/slow.service.ts', import.meta.url));
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fixture], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, DRAIN_MS: '1000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      for (const waiter of waiters.filter((w) => line.startsWith(w.prefix))) waiter.resolve(line);
    });
    const lineStarting = (prefix: string) =>
      new Promise<string>((resolve) => {
        const seen = lines.find((l) => l.startsWith(prefix));
        if (seen) resolve(seen);
        else waiters.push({ prefix, resolve });
      });

    const address = (await lineStarting('listening ')).slice('listening '.length);
    const inFlight = fetch(`${address}/slow`);
    await lineStarting('slow:started');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');

    // The signal reaches the child asynchronously: poll until its handler has run.
    let readiness = 200;
    for (let i = 0; i < 200 && readiness !== 503; i++) {
      readiness = (await fetch(`${address}/readyz`)).status;
    }
    expect(readiness).toBe(503);
    // Out of rotation, but still serving what load balancers send before they notice.
    expect((await fetch(`${address}/healthz`)).status).toBe(200);
    const response = await inFlight;
    expect(response.status).toBe(200);
    const [code] = await exited;
    expect(code).toBe(0);
    expect(lines.slice(lines.indexOf('slow:started'))).toEqual([
      'slow:started',
      'slow:finished',
      'close:consumers',
      'close:relay',
      'close:pools',
    ]);
  });
});
