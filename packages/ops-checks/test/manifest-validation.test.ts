import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/helm.runner.ts';
import { findUnknownFields } from '../src/manifest.fields.ts';
import { validateAgainstSchemas } from '../src/manifest.validator.ts';

const service = (spec: Record<string, unknown>): Manifest => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'gateway' },
  spec,
});

describe('manifest validation', () => {
  it('accepts a valid object', () => {
    const manifests = [service({ ports: [{ name: 'http', port: 8080, targetPort: 'http' }] })];
    expect(validateAgainstSchemas(manifests)).toEqual([]);
    expect(findUnknownFields(manifests)).toEqual([]);
  });

  it('rejects wrong types and unknown kinds', () => {
    const problems = validateAgainstSchemas([
      service({ ports: [{ port: 'eighty' }] }),
      { apiVersion: 'v1', kind: 'Pond', metadata: { name: 'x' } },
    ]);
    expect(problems).toHaveLength(2);
    expect(problems[0]!.object).toBe('Service/gateway');
    expect(problems[1]!.message).toBe('unexpected kind v1/Pond');
  });

  it('reports unknown fields at any depth, which the schema validators let through', () => {
    const manifests = [service({ ports: [{ port: 80, targetPorts: 'http' }] })];
    expect(validateAgainstSchemas(manifests)).toEqual([]);
    const problems = findUnknownFields(manifests);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.object).toBe('Service/gateway');
    expect(problems[0]!.message).toContain('targetPorts');
  });
});
