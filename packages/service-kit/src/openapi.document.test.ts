import { describe, expect, it } from 'vitest';
import { type OpenApiDocument, withPlatformConventions } from './openapi.document.ts';

const base = (): OpenApiDocument => ({
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  paths: {
    '/v1/public': {
      get: { security: [], responses: { '200': { description: 'Default Response' } } },
    },
    '/v1/things': {
      post: {
        requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
        responses: { '201': { description: 'Made it' } },
      },
    },
  },
});

describe('withPlatformConventions', () => {
  it('adds no 401 to public operations and no 400 to operations without input', () => {
    const doc = withPlatformConventions(base());
    expect(doc.paths?.['/v1/public']?.get?.responses).toEqual({
      '200': { description: 'OK' },
      default: { $ref: '#/components/responses/Problem' },
    });
  });

  it('keeps declared responses and adds 400, 401 and default to protected operations', () => {
    const doc = withPlatformConventions(base());
    expect(doc.paths?.['/v1/things']?.post?.responses).toEqual({
      '201': { description: 'Made it' },
      '400': { $ref: '#/components/responses/ValidationProblem' },
      '401': { $ref: '#/components/responses/Unauthenticated' },
      default: { $ref: '#/components/responses/Problem' },
    });
  });

  it('does not modify its input', () => {
    const input = base();
    withPlatformConventions(input);
    expect(input).toEqual(base());
  });
});
