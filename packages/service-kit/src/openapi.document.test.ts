import { describe, expect, it } from 'vitest';
import {
  answersWithEtag,
  answersWithLocation,
  type OpenApiDocument,
  withPlatformConventions,
} from './openapi.document.ts';

const base = (): OpenApiDocument => ({
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  paths: {
    '/healthz': {
      get: { security: [], responses: { '200': { description: 'Default Response' } } },
    },
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
  it('adds no 401 to public operations and no 400 to operations outside the API without input', () => {
    const doc = withPlatformConventions(base());
    expect(doc.paths?.['/healthz']?.get?.responses).toEqual({
      '200': { description: 'OK' },
      default: { $ref: '#/components/responses/Problem' },
    });
  });

  it('adds 400 to every API operation, which refuses query parameters it does not declare', () => {
    const doc = withPlatformConventions(base());
    expect(doc.paths?.['/v1/public']?.get?.responses).toEqual({
      '200': { description: 'OK' },
      '400': { $ref: '#/components/responses/ValidationProblem' },
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

  it('adds 412, 428 and the ETag answer to operations that take If-Match', () => {
    const input = base();
    input.paths!['/v1/things/{id}'] = {
      patch: {
        parameters: [
          { in: 'path', name: 'id', required: true },
          { in: 'header', name: 'if-match', required: true },
        ],
        responses: { '200': { description: 'Default Response' } },
      },
    };
    const doc = withPlatformConventions(input);
    const responses = doc.paths?.['/v1/things/{id}']?.patch?.responses ?? {};
    expect(responses['412']).toEqual({ $ref: '#/components/responses/VersionMismatch' });
    expect(responses['428']).toEqual({ $ref: '#/components/responses/PreconditionRequired' });
    expect(responses['200']).toMatchObject({
      description: 'OK',
      headers: { ETag: { schema: { type: 'string' } } },
    });
    expect(doc.components?.responses).toHaveProperty('VersionMismatch');
    expect(doc.components?.responses).toHaveProperty('PreconditionRequired');
    expect(doc.paths?.['/v1/things']?.post?.responses).not.toHaveProperty('412');
  });

  it('declares the ETag of an operation marked answersWithEtag, without If-Match answers, and drops the marker', () => {
    const input = base();
    input.paths!['/v1/things/{id}'] = {
      get: {
        ...answersWithEtag,
        parameters: [{ in: 'path', name: 'id', required: true }],
        responses: { '200': { description: 'Default Response' } },
      },
    };
    const get = withPlatformConventions(input).paths?.['/v1/things/{id}']?.get;
    expect(get?.responses['200']).toMatchObject({
      headers: { ETag: { schema: { type: 'string' } } },
    });
    expect(get?.responses).not.toHaveProperty('412');
    expect(get?.responses).not.toHaveProperty('428');
    expect(Object.keys(get ?? {}).filter((key) => key.startsWith('x-'))).toEqual([]);
  });

  it('declares the Location of the 201 of an operation marked answersWithLocation, and drops the marker', () => {
    const input = base();
    input.paths!['/v1/things'] = {
      post: {
        ...answersWithLocation,
        responses: {
          '201': { description: 'Default Response' },
          '200': { description: 'Default Response' },
        },
      },
    };
    const post = withPlatformConventions(input).paths?.['/v1/things']?.post;
    expect(post?.responses['201']).toMatchObject({
      headers: { Location: { schema: { type: 'string' } } },
    });
    expect(post?.responses['200']).not.toHaveProperty('headers');
    expect(Object.keys(post ?? {}).filter((key) => key.startsWith('x-'))).toEqual([]);
  });

  it('marks a body whose schema takes null optional, and leaves others required', () => {
    const input = base();
    const optional = { type: 'object', properties: { note: { type: 'string' } } };
    // As @fastify/swagger writes a zod `.nullish()` body (a 3.1 `type: 'null'` the 3.0 typings lack).
    Object.assign(input.paths!, {
      '/v1/notes': {
        post: {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { anyOf: [optional, { type: 'null' }] } } },
          },
          responses: {},
        },
      },
    });
    input.paths!['/v1/things']!.post!.requestBody = {
      required: true,
      content: { 'application/json': { schema: { type: 'object' } } },
    };
    const doc = withPlatformConventions(input);
    expect(doc.paths?.['/v1/notes']?.post?.requestBody).toMatchObject({ required: false });
    expect(doc.paths?.['/v1/things']?.post?.requestBody).toMatchObject({ required: true });
  });

  it('does not modify its input', () => {
    const input = base();
    withPlatformConventions(input);
    expect(input).toEqual(base());
  });
});
