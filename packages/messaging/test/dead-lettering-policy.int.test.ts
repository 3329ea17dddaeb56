import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RabbitMqHandle, startRabbitMq } from '@happening/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, connectBroker, platformTopology } from '../src/index.ts';

const operationsDoc = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../docs/operations.md',
);

/** The `rabbitmqctl set_policy` command docs/operations.md gives operators, taken apart. */
function documentedPolicy() {
  const text = fs.readFileSync(operationsDoc, 'utf8').replace(/\\\n\s*/g, '');
  const command = /rabbitmqctl set_policy --apply-to (\S+) (\S+) '([^']+)' '([^']+)'/.exec(text);
  if (!command) throw new Error('docs/operations.md gives no rabbitmqctl set_policy command');
  const [, applyTo, name, pattern, definition] = command as unknown as string[];
  return {
    name: name as string,
    body: {
      pattern: pattern as string,
      definition: JSON.parse(definition as string) as Record<string, unknown>,
      'apply-to': applyTo as string,
    },
  };
}

let rabbit: RabbitMqHandle;
let broker: Broker;

beforeAll(async () => {
  rabbit = await startRabbitMq();
  broker = await connectBroker({ url: rabbit.url, logger: pino({ level: 'silent' }) });
  await broker.declare(platformTopology());
});

afterAll(async () => {
  await broker?.close();
  await rabbit?.stop();
});

describe("the operations guide's dead-lettering policy", () => {
  it('is accepted by RabbitMQ and applies to every queue that dead-letters', async () => {
    const policy = documentedPolicy();
    const management = new URL(rabbit.managementUrl);
    const auth = `Basic ${Buffer.from(`${management.username}:${management.password}`).toString('base64')}`;
    const api = (pathname: string, init: RequestInit = {}) =>
      fetch(`${management.origin}/api${pathname}`, {
        ...init,
        headers: { authorization: auth, 'content-type': 'application/json' },
      });
    const put = await api(`/policies/%2F/${policy.name}`, {
      method: 'PUT',
      body: JSON.stringify(policy.body),
    });
    expect(put.status, await put.text()).toBeLessThan(300);

    // Every queue that dead-letters: the consumed queues (to their DLQ) and the retry queues.
    const queues = platformTopology()
      .queues.filter((queue) => queue.arguments?.['x-dead-letter-exchange'] !== undefined)
      .map((queue) => queue.name);
    expect(queues).toEqual(expect.arrayContaining(['booking.events', 'booking.retry.1']));
    for (const queue of queues) {
      const applied = async () => {
        const info = (await (await api(`/queues/%2F/${encodeURIComponent(queue)}`)).json()) as {
          effective_policy_definition?: Record<string, unknown>;
        };
        return info.effective_policy_definition;
      };
      // The management API shows a new policy once its next statistics round (5 s) has run.
      let definition = await applied();
      for (let i = 0; i < 200 && !definition?.['dead-letter-strategy']; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        definition = await applied();
      }
      expect(definition, queue).toMatchObject({
        'dead-letter-strategy': 'at-least-once',
        overflow: 'reject-publish',
      });
    }
  });
});
