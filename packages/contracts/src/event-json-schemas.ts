import { z } from 'zod';
import { envelopeSchema } from './envelope.ts';
import { EVENT_TYPES, eventRegistry } from './registry.ts';

/**
 * JSON Schema (draft 2020-12) of every published event, envelope included, one per type and
 * payload version, keyed `<type>@<version>`: what a system integrating through the broker can
 * validate messages against without reading TypeScript.
 */
export function eventJsonSchemas(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const type of EVENT_TYPES) {
    const versions: Record<number, z.ZodType> = eventRegistry[type];
    for (const [version, data] of Object.entries(versions)) {
      const message = envelopeSchema.extend({
        type: z.literal(type),
        version: z.literal(Number(version)),
        data,
      });
      schemas[`${type}@${version}`] = z.toJSONSchema(message, {
        target: 'draft-2020-12',
        io: 'input',
      });
    }
  }
  return schemas;
}
