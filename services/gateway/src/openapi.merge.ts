import { isDeepStrictEqual } from 'node:util';
import { type OpenApiDocument, operationsOf } from '@happening/service-kit';
import { routeFor, type Upstream } from './route-table.ts';

/** One upstream's own document. */
export interface UpstreamDocument {
  upstream: Upstream;
  doc: OpenApiDocument;
}

/** The merged document, and what could not be merged faithfully. */
export interface MergeResult {
  document: OpenApiDocument;
  /** Operations an upstream documents that the gateway would send elsewhere (left out). */
  unrouted: string[];
  /** Components two upstreams define differently under one name (the first one is kept). */
  conflicts: string[];
}

type Components = NonNullable<OpenApiDocument['components']>;

/**
 * Merges the upstreams' documents into the one the gateway serves: the paths each upstream
 * actually receives through the route map, tagged with the upstream, and their components.
 */
export function mergeOpenApi(
  info: OpenApiDocument['info'],
  parts: readonly UpstreamDocument[],
): MergeResult {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, Record<string, unknown>> = {};
  const unrouted: string[] = [];
  const conflicts: string[] = [];

  for (const { upstream, doc } of parts) {
    for (const [path, method, operation] of operationsOf(doc)) {
      if (routeFor(method, path) !== upstream) {
        unrouted.push(`${method.toUpperCase()} ${path} (${upstream})`);
        continue;
      }
      paths[path] ??= {};
      paths[path][method] = { ...operation, tags: operation.tags ?? [upstream] };
    }
    for (const [kind, entries] of Object.entries(doc.components ?? {})) {
      components[kind] ??= {};
      const merged = components[kind];
      for (const [name, value] of Object.entries(entries as Record<string, unknown>)) {
        if (!(name in merged)) merged[name] = value;
        else if (!isDeepStrictEqual(merged[name], value)) {
          conflicts.push(`components.${kind}.${name} (${upstream})`);
        }
      }
    }
  }

  const document: OpenApiDocument = {
    openapi: '3.1.0',
    info,
    tags: parts.map(({ upstream, doc }) => ({
      name: upstream,
      description: doc.info.description ?? doc.info.title,
    })),
    security: parts.find(({ doc }) => doc.security)?.doc.security ?? [],
    paths: paths as OpenApiDocument['paths'],
    components: components as Components,
  };
  return { document, unrouted, conflicts };
}
