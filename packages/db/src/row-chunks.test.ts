import { describe, expect, it } from 'vitest';
import { MAX_BIND_PARAMETERS, rowChunks } from './row-chunks.ts';

describe('rowChunks', () => {
  it('keeps every chunk under the bind-parameter limit, rows in order, none lost', () => {
    const rows = Array.from({ length: 25_000 }, (_, i) => i);
    const chunks = rowChunks(rows, 6);
    expect(chunks.flat()).toEqual(rows);
    for (const chunk of chunks) expect(chunk.length * 6).toBeLessThanOrEqual(MAX_BIND_PARAMETERS);
    expect(chunks).toHaveLength(3);
  });

  it('answers no chunk for no rows and one for a few', () => {
    expect(rowChunks([], 6)).toEqual([]);
    expect(rowChunks([1, 2], 15)).toEqual([[1, 2]]);
  });
});
