import type { OpenApiDocument } from './openapi.document.ts';

/** A JSON Schema node of a generated document, as tests read it. */
export interface JsonSchemaNode {
  type?: unknown;
  required?: string[];
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  [keyword: string]: unknown;
}

type Content = Record<string, { schema: JsonSchemaNode }>;

/** One operation of a generated document, as tests read it. */
export interface DocumentedOperation {
  description?: string;
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Content };
  responses: Record<string, { content?: Content; $ref?: string }>;
}

/** The operation documented for `method path`; throws when the document lacks it. */
export function documentedOperation(
  doc: OpenApiDocument,
  path: string,
  method: 'get' | 'post' | 'put' | 'patch' | 'delete',
): DocumentedOperation {
  const found = doc.paths?.[path]?.[method];
  if (!found) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  return found as unknown as DocumentedOperation;
}

/** `in:name` of each parameter, sorted (e.g. `path:eventId`, `query:limit`). */
export function parameterNames(operation: DocumentedOperation): string[] {
  return (operation.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort();
}

/** The JSON request body's schema; throws when the operation takes none. */
export function requestBodySchema(operation: DocumentedOperation): JsonSchemaNode {
  const schema = operation.requestBody?.content['application/json']?.schema;
  if (!schema) throw new Error('the operation documents no JSON request body');
  return schema;
}

/** The JSON response schema for `status`; throws when it is not documented. */
export function responseBodySchema(operation: DocumentedOperation, status: string): JsonSchemaNode {
  const schema = operation.responses[status]?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`no JSON response documented for ${status}`);
  return schema;
}
