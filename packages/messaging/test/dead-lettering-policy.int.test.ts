import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  eventually,
  managementRequest,
  type RabbitMqHandle,
  startRabbitMq,
} from '@happening/testkit';
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
    // Throws unless RabbitMQ accepts it.
    await managementRequest(
      rabbit.managementUrl,
      'PUT',
      `/api/policies/%2F/${policy.name}`,
      policy.body,
    );

    // Every queue that dead-letters: the consumed queues (to their DLQ) and the retry queues.
    const queues = platformTopology()
      .queues.filter((queue) => queue.arguments?.['x-dead-letter-exchange'] !== undefined)
      .map((queue) => queue.name);
    expect(queues).toEqual(expect.arrayContaining(['booking.events', 'booking.retry.1']));
    for (const queue of queues) {
      // The management API shows a new policy once its next statistics round (5 s) has run.
      const definition = await eventually(
        async () => {
          const info = (await managementRequest(
            rabbit.managementUrl,
            'GET',
            `/api/queues/%2F/${encodeURIComponent(queue)}`,
          )) as { effective_policy_definition?: Record<string, unknown> };
          const applied = info.effective_policy_definition;
          return applied?.['dead-letter-strategy'] ? applied : undefined;
        },
        { timeoutMs: 20_000, what: `the policy on ${queue}` },
      );
      expect(definition, queue).toMatchObject({
        'dead-letter-strategy': 'at-least-once',
        overflow: 'reject-publish',
      });
    }
  });
});
