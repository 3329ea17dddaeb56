import type { Manifest } from './helm.runner.ts';
import { describe, type ManifestProblem } from './manifest.validator.ts';

interface Container {
  name: string;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type?: string };
  };
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  livenessProbe?: { httpGet?: { path?: string } };
  readinessProbe?: { httpGet?: { path?: string } };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { name: string; emptyDir?: unknown }[];
}

function podSpecOf(manifest: Manifest): PodSpec | undefined {
  const spec = manifest.spec as { template?: { spec?: PodSpec } } | undefined;
  if (manifest.kind === 'Deployment' || manifest.kind === 'Job') return spec?.template?.spec;
  return undefined;
}

/**
 * The hardening every workload must have: non-root, no privilege escalation, read-only root
 * filesystem with a writable /tmp, every capability dropped, RuntimeDefault seccomp, requests and
 * limits, and (for long-running Deployments) liveness on /healthz and readiness on /readyz.
 */
export function checkPodSecurity(manifests: readonly Manifest[]): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const manifest of manifests) {
    const pod = podSpecOf(manifest);
    if (!pod) continue;
    const object = describe(manifest);
    const fail = (message: string) => problems.push({ object, message });
    const seccompPod = pod.securityContext?.seccompProfile?.type;
    if (pod.securityContext?.runAsNonRoot !== true)
      fail('pod securityContext.runAsNonRoot is not true');
    const containers = [...(pod.containers ?? []), ...(pod.initContainers ?? [])];
    if (containers.length === 0) fail('no containers');
    for (const container of containers) {
      const where = `container ${container.name}`;
      const sc = container.securityContext ?? {};
      if (sc.runAsNonRoot !== true) fail(`${where}: runAsNonRoot is not true`);
      if (sc.runAsUser === 0) fail(`${where}: runs as uid 0`);
      if (sc.allowPrivilegeEscalation !== false)
        fail(`${where}: allowPrivilegeEscalation is not false`);
      if (sc.readOnlyRootFilesystem !== true) fail(`${where}: readOnlyRootFilesystem is not true`);
      if (sc.privileged === true) fail(`${where}: privileged`);
      if (!sc.capabilities?.drop?.includes('ALL')) fail(`${where}: capabilities do not drop ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) fail(`${where}: adds capabilities`);
      if ((sc.seccompProfile?.type ?? seccompPod) !== 'RuntimeDefault') {
        fail(`${where}: seccomp profile is not RuntimeDefault`);
      }
      for (const section of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) {
          if (container.resources?.[section]?.[resource] === undefined) {
            fail(`${where}: resources.${section}.${resource} is not set`);
          }
        }
      }
      const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
      if (!tmp || !pod.volumes?.some((v) => v.name === tmp.name && v.emptyDir !== undefined)) {
        fail(`${where}: no emptyDir mounted at /tmp`);
      }
      if (manifest.kind === 'Deployment') {
        if (container.livenessProbe?.httpGet?.path !== '/healthz')
          fail(`${where}: liveness probe is not /healthz`);
        if (container.readinessProbe?.httpGet?.path !== '/readyz')
          fail(`${where}: readiness probe is not /readyz`);
      }
    }
  }
  return problems;
}
