export { type CapturedEvents, captureEvents } from './capture-events.ts';
export { type QueueState, queueState } from './queue-state.ts';
