export { type CapturedEvents, captureEvents } from './capture-events.ts';
