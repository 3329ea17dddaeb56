import type { Readable } from 'node:stream';

const closedEarly = () => new Error('upstream body closed before its end');

/**
 * Calls `then` once `body` has its first bytes to read or has ended, without reading any
 * (`then()`), or once it fails before that (`then(error)`: an error, a timeout, or closed before
 * its end). Called synchronously from the stream's event, so the caller can pipe `body` (from its
 * start, as if never waited on) before any later error of it is emitted.
 */
export function onBodyStart(body: Readable, then: (error?: Error) => void): void {
  if (body.errored || body.readableLength > 0 || body.readableEnded || body.destroyed) {
    then(body.errored ?? (body.destroyed && !body.readableEnded ? closedEarly() : undefined));
    return;
  }
  const settle = (error?: Error) => {
    body.off('readable', onReadable);
    body.off('error', onError);
    body.off('close', onClose);
    then(error);
  };
  // Emitted once bytes are buffered, or at the end of an empty body.
  const onReadable = () => settle();
  const onError = (error: Error) => settle(error);
  const onClose = () => settle(body.errored ?? (body.readableEnded ? undefined : closedEarly()));
  body.on('readable', onReadable);
  body.on('error', onError);
  body.on('close', onClose);
}
