import amqp from 'amqplib';

/** What the broker holds of a queue right now: messages ready, and consumers attached. */
export interface QueueState {
  messageCount: number;
  consumerCount: number;
}

/** Reads a queue's state (a passive declare, on a connection of its own). */
export async function queueState(amqpUrl: string, queue: string): Promise<QueueState> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    // A queue not declared yet closes the channel: the check rejects, nothing is thrown elsewhere.
    channel.on('error', () => undefined);
    const { messageCount, consumerCount } = await channel.checkQueue(queue);
    return { messageCount, consumerCount };
  } finally {
    await connection.close();
  }
}
