import { describe, expect, it } from 'vitest';
import type { Manifest } from './helm.runner.ts';
import { checkPodSecurity } from './pod-security.rules.ts';

function deployment(
  container: Record<string, unknown>,
  podSecurity = { runAsNonRoot: true },
): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: {
      template: {
        spec: {
          securityContext: { ...podSecurity, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{ name: 'app', ...container }],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

const hardened = {
  securityContext: {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  },
  resources: { requests: { cpu: '1', memory: '1Mi' }, limits: { cpu: '1', memory: '1Mi' } },
  livenessProbe: { httpGet: { path: '/healthz' } },
  readinessProbe: { httpGet: { path: '/readyz' } },
  volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
};

describe('checkPodSecurity', () => {
  it('accepts a hardened deployment', () => {
    expect(checkPodSecurity([deployment(hardened)])).toEqual([]);
  });

  it('reports each missing rule', () => {
    const problems = checkPodSecurity([
      deployment(
        {
          ...hardened,
          securityContext: { runAsUser: 0, capabilities: { add: ['NET_ADMIN'] } },
          resources: { requests: { cpu: '1' } },
          readinessProbe: { httpGet: { path: '/healthz' } },
          volumeMounts: [],
        },
        { runAsNonRoot: false },
      ),
    ]).map((p) => p.message);
    expect(problems).toEqual([
      'pod securityContext.runAsNonRoot is not true',
      'container app: runAsNonRoot is not true',
      'container app: runs as uid 0',
      'container app: allowPrivilegeEscalation is not false',
      'container app: readOnlyRootFilesystem is not true',
      'container app: capabilities do not drop ALL',
      'container app: adds capabilities',
      'container app: resources.requests.memory is not set',
      'container app: resources.limits.cpu is not set',
      'container app: resources.limits.memory is not set',
      'container app: no emptyDir mounted at /tmp',
      'container app: readiness probe is not /readyz',
    ]);
  });
});
