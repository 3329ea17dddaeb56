import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventJsonSchemas } from '../src/event-json-schemas.ts';

/** Where the published events' JSON Schemas are kept for integrators (docs/events.schema.json). */
export const EVENT_SCHEMAS_FILE = fileURLToPath(
  new URL('../../../docs/events.schema.json', import.meta.url),
);

/** The file's text: the schemas, two-space indented, a final newline. */
export function eventSchemasText(): string {
  return `${JSON.stringify(eventJsonSchemas(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(EVENT_SCHEMAS_FILE, eventSchemasText());
  console.log(`wrote ${EVENT_SCHEMAS_FILE}`);
}
