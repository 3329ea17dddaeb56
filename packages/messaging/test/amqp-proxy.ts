import type { Socket } from 'node:net';
import { listenTcpProxy } from '@happening/testkit';

/** An AMQP method by its class and method ids (AMQP 0-9-1, section 1). */
export type AmqpMethod = readonly [classId: number, methodId: number];

export const METHODS = {
  confirmSelectOk: [85, 11],
  channelCloseOk: [20, 41],
  basicQos: [60, 10],
  basicConsume: [60, 20],
  basicConsumeOk: [60, 21],
} as const satisfies Record<string, AmqpMethod>;

/**
 * A TCP proxy in front of RabbitMQ that reads the AMQP frames going through it, to cut or hold a
 * connection at an exact point of the protocol rather than at a moment in time.
 */
export interface AmqpProxy {
  /** The broker's URL with the proxy's address in it. */
  url: string;
  /**
   * The next time the broker sends `method`, the client gets it followed, in the same write, by a
   * `connection.close` (as RabbitMQ sends when an operator or a stopping node closes it); then the
   * connection is dropped. So the client learns of the close before it resumes after `method`.
   */
  closeAfter(method: AmqpMethod): void;
  /** The next time a client sends `method`, it and what follows it wait for `release`. */
  holdNext(method: AmqpMethod): void;
  /** Whether a frame waits for `release`. */
  holding(): boolean;
  release(): void;
  /** How many times the broker has sent `method` to a client since this call. */
  countReceived(method: AmqpMethod): () => number;
  /** Drops every connection, as a network failure would. */
  dropAll(): void;
  /** Drops the connections whose client named itself `name` (`connection_name`). */
  dropNamed(name: string): void;
  close(): Promise<void>;
}

const FRAME_METHOD = 1;
const FRAME_END = 0xce;
const PROTOCOL_HEADER_LENGTH = 8;

/** Splits complete frames off `buffer`; what remains is the start of the next one. */
function takeFrames(buffer: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let offset = 0;
  while (buffer.length - offset >= 7) {
    const end = offset + 7 + buffer.readUInt32BE(offset + 3) + 1;
    if (end > buffer.length) break;
    frames.push(buffer.subarray(offset, end));
    offset = end;
  }
  return { frames, rest: buffer.subarray(offset) };
}

function isMethod(frame: Buffer, [classId, methodId]: AmqpMethod): boolean {
  return (
    frame[0] === FRAME_METHOD &&
    frame.length >= 12 &&
    frame.readUInt16BE(7) === classId &&
    frame.readUInt16BE(9) === methodId
  );
}

/** `connection.close` with 320 CONNECTION_FORCED, on channel 0. */
function connectionCloseFrame(): Buffer {
  const text = Buffer.from('CONNECTION_FORCED - closed by the test proxy', 'latin1');
  const payload = Buffer.alloc(4 + 2 + 1 + text.length + 4);
  payload.writeUInt16BE(10, 0);
  payload.writeUInt16BE(50, 2);
  payload.writeUInt16BE(320, 4);
  payload.writeUInt8(text.length, 6);
  text.copy(payload, 7);
  const header = Buffer.alloc(7);
  header.writeUInt8(FRAME_METHOD, 0);
  header.writeUInt16BE(0, 1);
  header.writeUInt32BE(payload.length, 3);
  return Buffer.concat([header, payload, Buffer.from([FRAME_END])]);
}

/** The `connection_name` client property (a long string in a field table) in `chunk`, if there. */
function connectionName(chunk: Buffer): string | undefined {
  const key = Buffer.from('connection_nameS', 'latin1');
  const at = chunk.indexOf(key);
  if (at < 0 || at + key.length + 4 > chunk.length) return undefined;
  const start = at + key.length + 4;
  return chunk.toString('utf8', start, start + chunk.readUInt32BE(at + key.length));
}

export async function startAmqpProxy(target: string): Promise<AmqpProxy> {
  /** Each client socket's `connection_name`, as read from its connection.start-ok. */
  const names = new Map<Socket, string>();
  let closeArmed: AmqpMethod | undefined;
  let holdArmed: AmqpMethod | undefined;
  let held: (() => void) | undefined;
  const counters: { method: AmqpMethod; seen: number }[] = [];

  const listener = await listenTcpProxy(target, (client, upstream) => {
    client.on('close', () => names.delete(client));
    let fromClient: Buffer = Buffer.alloc(0);
    let headerPassed = false;
    let holding = false;
    // Passes on the client's complete frames, up to one to hold.
    const pump = () => {
      if (holding || upstream.destroyed) return;
      const passed: Buffer[] = [];
      if (!headerPassed) {
        if (fromClient.length < PROTOCOL_HEADER_LENGTH) return;
        headerPassed = true;
        passed.push(fromClient.subarray(0, PROTOCOL_HEADER_LENGTH));
        fromClient = fromClient.subarray(PROTOCOL_HEADER_LENGTH);
      }
      const { frames, rest } = takeFrames(fromClient);
      fromClient = rest;
      for (const [i, frame] of frames.entries()) {
        if (holdArmed && isMethod(frame, holdArmed)) {
          holdArmed = undefined;
          holding = true;
          fromClient = Buffer.concat([...frames.slice(i), fromClient]);
          held = () => {
            holding = false;
            pump();
          };
          break;
        }
        passed.push(frame);
      }
      upstream.write(Buffer.concat(passed));
    };
    client.on('data', (chunk: Buffer) => {
      if (!names.has(client)) {
        const name = connectionName(chunk);
        if (name) names.set(client, name);
      }
      fromClient = Buffer.concat([fromClient, chunk]);
      pump();
    });
    let fromBroker: Buffer = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      // After a cut the client still has the frames written to it to read, and nothing more.
      if (client.writableEnded) return;
      fromBroker = Buffer.concat([fromBroker, chunk]);
      const { frames, rest } = takeFrames(fromBroker);
      fromBroker = rest;
      const passed: Buffer[] = [];
      for (const frame of frames) {
        for (const counter of counters) if (isMethod(frame, counter.method)) counter.seen++;
        passed.push(frame);
        if (closeArmed && isMethod(frame, closeArmed)) {
          closeArmed = undefined;
          upstream.destroy();
          client.end(Buffer.concat([...passed, connectionCloseFrame()]));
          return;
        }
      }
      client.write(Buffer.concat(passed));
    });
  });
  return {
    url: listener.url,
    closeAfter: (method) => {
      closeArmed = method;
    },
    holdNext: (method) => {
      holdArmed = method;
    },
    holding: () => held !== undefined,
    release: () => {
      const send = held;
      held = undefined;
      send?.();
    },
    countReceived: (method) => {
      const counter = { method, seen: 0 };
      counters.push(counter);
      return () => counter.seen;
    },
    dropAll: listener.dropAll,
    dropNamed: (name) => {
      for (const [socket, named] of names) if (named === name) socket.destroy();
    },
    close: listener.close,
  };
}
