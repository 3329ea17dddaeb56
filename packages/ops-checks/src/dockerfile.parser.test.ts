import { describe, expect, it } from 'vitest';
import { finalStage, parseDockerfile } from './dockerfile.parser.ts';

describe('parseDockerfile', () => {
  const dockerfile = parseDockerfile(`
# comment
FROM node:20 AS build
RUN pnpm deploy \\
    --filter x \\
    --prod /out
FROM --platform=linux/amd64 node:20-slim
# inside a stage
USER 10001
`);

  it('splits stages and joins continuations', () => {
    expect(dockerfile.stages).toEqual([
      { index: 0, from: 'node:20', name: 'build' },
      { index: 1, from: 'node:20-slim', name: undefined },
    ]);
    expect(dockerfile.instructions[1]).toEqual({
      keyword: 'RUN',
      args: 'pnpm deploy --filter x --prod /out',
      stage: 0,
    });
  });

  it('gives the final stage its own instructions', () => {
    expect(finalStage(dockerfile).map((i) => i.keyword)).toEqual(['FROM', 'USER']);
  });
});
