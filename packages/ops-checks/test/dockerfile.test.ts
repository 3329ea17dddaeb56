import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { finalStage, parseDockerfile } from '../src/dockerfile.parser.ts';
import { fromRoot } from '../src/repo.paths.ts';

const dockerfile = parseDockerfile(
  fs.readFileSync(fromRoot('docker', 'service.Dockerfile'), 'utf8'),
);
const shipped = finalStage(dockerfile);
const args = (keyword: string) => shipped.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('docker/service.Dockerfile', () => {
  it('is multi-stage, with named build stages and pinned base images', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) {
      expect(stage.name, `stage ${stage.index}`).toBeTruthy();
      expect(stage.from).not.toMatch(/:latest$/);
    }
  });

  it('builds one service chosen by the SERVICE build arg with pnpm deploy --prod', () => {
    const deploy = dockerfile.instructions.find(
      (i) => i.keyword === 'RUN' && /pnpm deploy/.test(i.args),
    );
    expect(deploy?.args).toMatch(/--filter "?@happening\/\$\{SERVICE\}"?/);
    expect(deploy?.args).toMatch(/--prod/);
    expect(
      dockerfile.instructions.some((i) => i.keyword === 'ARG' && /^SERVICE\b/.test(i.args)),
    ).toBe(true);
  });

  it('ships only the deployed service, not the build toolchain', () => {
    const copies = args('COPY');
    expect(copies.every((c) => c.startsWith('--from='))).toBe(true);
    expect(copies.some((c) => /--from=build\b.*\/out\b/.test(c))).toBe(true);
  });

  it('runs as a non-root user', () => {
    const users = args('USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.split(':')[0]!;
    expect(['root', '0']).not.toContain(user);
  });

  it('checks /healthz and starts the service', () => {
    expect(args('HEALTHCHECK').join(' ')).toContain('/healthz');
    expect(args('CMD').at(-1)).toContain('src/main.ts');
  });

  it('writes nothing outside /tmp at run time (read-only root filesystem)', () => {
    expect(args('VOLUME')).toEqual([]);
    expect(args('ENV').join(' ')).toContain('TMPDIR=/tmp');
  });
});

describe('.dockerignore', () => {
  const ignored = fs
    .readFileSync(fromRoot('.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim());

  it('keeps dependencies, VCS data, local data and env files out of the build context', () => {
    for (const pattern of ['**/node_modules', '.git', '.data', '**/.env']) {
      expect(ignored).toContain(pattern);
    }
  });
});
