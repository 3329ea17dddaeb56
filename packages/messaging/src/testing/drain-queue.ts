import amqp from 'amqplib';

/** A message taken off a queue: its id and headers (a DLQ's carry why it is there). */
export interface DrainedMessage {
  messageId: string;
  headers: Record<string, unknown>;
}

/** Takes every message ready in `queue` off it (a DLQ, say), on a connection of its own. */
export async function drainQueue(amqpUrl: string, queue: string): Promise<DrainedMessage[]> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    const drained: DrainedMessage[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) return drained;
      drained.push({
        messageId: String(message.properties.messageId ?? ''),
        headers: { ...(message.properties.headers ?? {}) },
      });
    }
  } finally {
    await connection.close();
  }
}
