const draining = new WeakSet<object>();

/** Marks `app` as leaving: from now on `/readyz` answers 503 and responses close their connection. */
export function startDraining(app: object): void {
  draining.add(app);
}

/** Whether shutdown of `app` has begun (see `startDraining`). */
export function isDraining(app: object): boolean {
  return draining.has(app);
}
