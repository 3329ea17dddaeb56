export { type CapturedEvents, captureEvents } from './capture-events.ts';
export { type DrainedMessage, drainQueue } from './drain-queue.ts';
export { type QueueState, queueState } from './queue-state.ts';
export { deadLetteredUnsubscribedEvent } from './unsubscribed-event.ts';
