/** Postgres takes at most this many bind parameters in one statement. */
export const MAX_BIND_PARAMETERS = 65_535;

/**
 * Splits the rows of a multi-row statement into runs that stay under Postgres's bind-parameter
 * limit (a fan-out to thousands of rows would otherwise fail as one statement).
 */
export function rowChunks<T>(rows: readonly T[], parametersPerRow: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_BIND_PARAMETERS / Math.max(1, parametersPerRow)));
  const chunks: T[][] = [];
  for (let start = 0; start < rows.length; start += size)
    chunks.push(rows.slice(start, start + size));
  return chunks;
}
