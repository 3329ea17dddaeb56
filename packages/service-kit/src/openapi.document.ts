import { STATUS_CODES } from 'node:http';
import type { OpenAPIV3_1 } from 'openapi-types';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';

/** An OpenAPI 3.1 document as services and the gateway serve it. */
export type OpenApiDocument = OpenAPIV3_1.Document;

/** Name of the bearer security scheme every protected operation requires. */
export const BEARER_SCHEME = 'bearerAuth';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The problem+json body every error answer carries. */
const problemSchema: OpenAPIV3_1.SchemaObject = {
  type: 'object',
  description: 'RFC 9457 problem details with a stable `code`.',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Stable machine-readable error code.' },
    errors: {
      type: 'array',
      description: 'Invalid fields of a 400 answer.',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
};

const problemResponse = (description: string): OpenAPIV3_1.ResponseObject => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
});

const PROBLEM_RESPONSES: Readonly<Record<string, OpenAPIV3_1.ResponseObject>> = {
  ValidationProblem: problemResponse('The request is not valid (`VALIDATION_FAILED`).'),
  Unauthenticated: problemResponse('Missing or invalid bearer token (`UNAUTHENTICATED`).'),
  VersionMismatch: problemResponse(
    'If-Match names another version than the current one (`VERSION_MISMATCH`, with `currentVersion`).',
  ),
  PreconditionRequired: problemResponse('If-Match is missing (`PRECONDITION_REQUIRED`).'),
  Problem: problemResponse('Any other error, as problem+json.'),
};

const ETAG_MARKER = 'x-etag';

/**
 * Route schema marker of an operation that answers a versioned resource with its ETag
 * (`withEtag`) although it takes no If-Match (a read, a create, a state change); those taking
 * If-Match are documented so already. Spread into the route's `schema`; the marker itself stays
 * out of the published document.
 */
export const answersWithEtag = { [ETAG_MARKER]: true } as const;

const LOCATION_MARKER = 'x-location';

/**
 * Route schema marker of an operation whose 201 answers the created resource's URL in `Location`
 * (`sendIdempotent`'s `location`). Spread into the route's `schema`, like `answersWithEtag`.
 */
export const answersWithLocation = { [LOCATION_MARKER]: true } as const;

const LOCATION_HEADER: OpenAPIV3_1.HeaderObject = {
  description:
    'The path of the created resource (on a route taking an Idempotency-Key, also on a replay).',
  schema: { type: 'string' },
};

const ETAG_HEADER: OpenAPIV3_1.HeaderObject = {
  description:
    'The version of the resource answered, quoted ("4"): the If-Match of its next change.',
  schema: { type: 'string' },
};

/** Iterates every operation of a document with its path and method. */
export function* operationsOf(
  doc: OpenApiDocument,
): Generator<[path: string, method: string, operation: OpenAPIV3_1.OperationObject]> {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = item?.[method];
      if (operation) yield [path, method, operation];
    }
  }
}

/**
 * Whether the operation can answer 400: it takes input, or it is an API operation, which refuses
 * query parameters it does not declare (`createApp`), even when it declares none.
 */
function validatesInput(path: string, operation: OpenAPIV3_1.OperationObject): boolean {
  return (
    path.startsWith('/v1/') ||
    operation.requestBody !== undefined ||
    (operation.parameters?.length ?? 0) > 0
  );
}

/**
 * A body whose JSON schema takes null may be left out (fastify validates a missing body as null);
 * @fastify/swagger marks every declared body required.
 */
function withOptionalBody(operation: OpenAPIV3_1.OperationObject): OpenAPIV3_1.OperationObject {
  const body = operation.requestBody;
  if (body === undefined || '$ref' in body) return operation;
  const schema = body.content['application/json']?.schema as
    | { type?: unknown; anyOf?: { type?: unknown }[] }
    | undefined;
  const takesNull = (node: { type?: unknown }) =>
    node.type === 'null' || (Array.isArray(node.type) && node.type.includes('null'));
  if (!schema || !(takesNull(schema) || (schema.anyOf ?? []).some(takesNull))) return operation;
  return { ...operation, requestBody: { ...body, required: false } };
}

/** Operations declaring `If-Match` (see `ifMatchHeadersSchema`) change a versioned resource. */
function takesIfMatch(operation: OpenAPIV3_1.OperationObject): boolean {
  return (operation.parameters ?? []).some(
    (p) => 'in' in p && p.in === 'header' && p.name.toLowerCase() === 'if-match',
  );
}

/**
 * Adds what every Happening API shares: the bearer security scheme (required by default),
 * the Problem schema, problem+json answers for 400, 401 and anything else, for operations
 * taking If-Match their 412 and 428 answers, the ETag of the successful answers of those and
 * of the operations marked `answersWithEtag`, and the Location of the 201 of those marked
 * `answersWithLocation`.
 */
export function withPlatformConventions(doc: OpenApiDocument): OpenApiDocument {
  const paths: OpenAPIV3_1.PathsObject = {};
  for (const [path, item] of Object.entries(doc.paths ?? {})) paths[path] = { ...item };
  const result: OpenApiDocument = {
    ...doc,
    security: doc.security ?? [{ [BEARER_SCHEME]: [] }],
    components: {
      ...doc.components,
      securitySchemes: {
        ...doc.components?.securitySchemes,
        [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
      schemas: { ...doc.components?.schemas, Problem: problemSchema },
      responses: { ...doc.components?.responses, ...PROBLEM_RESPONSES },
    },
    paths,
  };
  for (const [path, method, marked] of operationsOf(result)) {
    const {
      [ETAG_MARKER]: answersWithEtag,
      [LOCATION_MARKER]: answersWithLocation,
      ...operation
    } = marked as typeof marked & { [ETAG_MARKER]?: unknown; [LOCATION_MARKER]?: unknown };
    const versioned = takesIfMatch(operation);
    const responses: OpenAPIV3_1.ResponsesObject = {};
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      // @fastify/swagger describes every declared response as "Default Response".
      let described =
        'description' in response && response.description === 'Default Response'
          ? { ...response, description: STATUS_CODES[status] ?? response.description }
          : response;
      if (
        (versioned || answersWithEtag === true) &&
        status.startsWith('2') &&
        !('$ref' in described)
      ) {
        described = { ...described, headers: { ETag: ETAG_HEADER, ...described.headers } };
      }
      if (answersWithLocation === true && status === '201' && !('$ref' in described)) {
        described = { ...described, headers: { Location: LOCATION_HEADER, ...described.headers } };
      }
      responses[status] = described;
    }
    if (validatesInput(path, operation)) {
      responses['400'] ??= { $ref: '#/components/responses/ValidationProblem' };
    }
    if (versioned) {
      responses['412'] ??= { $ref: '#/components/responses/VersionMismatch' };
      responses['428'] ??= { $ref: '#/components/responses/PreconditionRequired' };
    }
    // Operations that declare `security: []` are public.
    if (operation.security === undefined || operation.security.length > 0) {
      responses['401'] ??= { $ref: '#/components/responses/Unauthenticated' };
    }
    responses.default ??= { $ref: '#/components/responses/Problem' };
    (paths[path] as Record<string, unknown>)[method] = {
      ...withOptionalBody(operation),
      responses,
    };
  }
  return result;
}
