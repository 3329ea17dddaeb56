import type { Manifest } from './helm.runner.ts';
import { KINDS, kindKey } from './manifest.kinds.ts';

/** One problem found in a rendered manifest. */
export interface ManifestProblem {
  object: string;
  message: string;
}

/** `Kind/name` of a manifest, for messages. */
export function describe(manifest: Manifest): string {
  return `${manifest.kind}/${manifest.metadata?.name ?? '?'}`;
}

/** Validates each manifest against its Kubernetes OpenAPI schema (types, enums, required fields). */
export function validateAgainstSchemas(manifests: readonly Manifest[]): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const manifest of manifests) {
    const model = KINDS[kindKey(manifest)];
    if (!model) {
      problems.push({
        object: describe(manifest),
        message: `unexpected kind ${kindKey(manifest)}`,
      });
      continue;
    }
    try {
      model.create(manifest).validate();
    } catch (error) {
      problems.push({ object: describe(manifest), message: (error as Error).message });
    }
  }
  return problems;
}
