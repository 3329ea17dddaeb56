import { z } from 'zod';
import { envelopeSchema } from './envelope.ts';
import { ownerOf } from './event-owners.ts';
import { EVENT_TYPES, eventRegistry } from './registry.ts';

/**
 * The formats JSON Schema draft 2020-12 defines (§7.3). Zod names others (`base64`, `cuid`, `jwt`,
 * …) that validators do not know: ajv with its default strictness refuses to compile a schema
 * holding one ("unknown format"), so they are left out of the published schemas.
 */
export const JSON_SCHEMA_FORMATS: ReadonlySet<string> = new Set([
  'date-time',
  'date',
  'time',
  'duration',
  'email',
  'idn-email',
  'hostname',
  'idn-hostname',
  'ipv4',
  'ipv6',
  'uri',
  'uri-reference',
  'iri',
  'iri-reference',
  'uuid',
  'uri-template',
  'json-pointer',
  'relative-json-pointer',
  'regex',
]);

/**
 * Drops a format JSON Schema does not define. The constraint stays said by the `pattern` (and, for
 * base64, `contentEncoding`) Zod emits beside it; a format with no pattern to say it would be lost,
 * so it stops the generation instead.
 */
function onlyStandardFormats({
  jsonSchema,
  path,
}: {
  jsonSchema: { format?: string; pattern?: string };
  path: (string | number)[];
}): void {
  const { format } = jsonSchema;
  if (format === undefined || JSON_SCHEMA_FORMATS.has(format)) return;
  if (jsonSchema.pattern === undefined) {
    throw new Error(
      `format "${format}" at ${path.join('.') || '(root)'} is not JSON Schema's and has no pattern to say it`,
    );
  }
  delete jsonSchema.format;
}

/**
 * JSON Schema (draft 2020-12) of every published event, envelope included, one per type and
 * payload version, keyed `<type>@<version>`: what a system integrating through the broker can
 * validate messages against without reading TypeScript. Each names its type and its type's owner
 * (`event-owners.ts`) as the only `type` and `source`: the platform's consumers dead-letter an
 * event from any other source.
 */
export function eventJsonSchemas(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const type of EVENT_TYPES) {
    const versions: Record<number, z.ZodType> = eventRegistry[type];
    for (const [version, data] of Object.entries(versions)) {
      const message = envelopeSchema.extend({
        type: z.literal(type),
        version: z.literal(Number(version)),
        source: z.literal(ownerOf(type)),
        data,
      });
      schemas[`${type}@${version}`] = z.toJSONSchema(message, {
        target: 'draft-2020-12',
        io: 'input',
        override: onlyStandardFormats,
      });
    }
  }
  return schemas;
}
