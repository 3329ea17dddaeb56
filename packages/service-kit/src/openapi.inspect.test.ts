import { describe, expect, it } from 'vitest';
import type { OpenApiDocument } from './openapi.document.ts';
import {
  documentedOperation,
  parameterNames,
  requestBodySchema,
  responseBodySchema,
} from './openapi.inspect.ts';

const doc = {
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  paths: {
    '/v1/things/{id}': {
      post: {
        parameters: [
          { in: 'query', name: 'limit' },
          { in: 'path', name: 'id' },
        ],
        requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
        responses: { '201': { content: { 'application/json': { schema: { required: ['id'] } } } } },
      },
    },
  },
} as unknown as OpenApiDocument;

describe('document inspection helpers', () => {
  it('read an operation, its parameters and its body schemas', () => {
    const op = documentedOperation(doc, '/v1/things/{id}', 'post');
    expect(parameterNames(op)).toEqual(['path:id', 'query:limit']);
    expect(requestBodySchema(op).type).toBe('object');
    expect(responseBodySchema(op, '201').required).toEqual(['id']);
  });

  it('throw naming what the document lacks', () => {
    expect(() => documentedOperation(doc, '/v1/things/{id}', 'get')).toThrow(
      'GET /v1/things/{id} is not documented',
    );
    const op = documentedOperation(doc, '/v1/things/{id}', 'post');
    expect(() => responseBodySchema(op, '200')).toThrow('no JSON response documented for 200');
  });
});
