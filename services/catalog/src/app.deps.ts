import type { CatalogDb } from './database.ts';

/** What the HTTP handlers need besides the request. */
export interface CatalogDeps {
  db: CatalogDb;
  /** The current time; injected so tests can move it. */
  clock: () => Date;
  /** Called after a transaction that wrote outbox rows committed (wakes the relay). */
  afterCommit: () => void;
}

/** Who is asking, and the ids the events it causes carry. */
export interface Caller {
  userId: string;
  requestId: string;
}
