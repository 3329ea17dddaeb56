import type { OpenApiDocument } from '@happening/service-kit';
import { describe, expect, it } from 'vitest';
import { mergeOpenApi } from './openapi.merge.ts';

const problem = { type: 'object', properties: { code: { type: 'string' } } };
const ok = { responses: { '200': { description: 'OK' } } };

const doc = (
  title: string,
  paths: Record<string, Record<string, unknown>>,
  schemas: Record<string, unknown> = {},
): OpenApiDocument => ({
  openapi: '3.1.0',
  info: { title, version: '1.0.0', description: `${title} service` },
  security: [{ bearerAuth: [] }],
  paths: paths as OpenApiDocument['paths'],
  components: {
    schemas: { Problem: problem, ...schemas } as never,
    securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
  },
});

const info = { title: 'Happening API', version: '1' };

describe('mergeOpenApi', () => {
  const catalog = doc('catalog', {
    '/v1/events': { get: ok },
    '/v1/events/{eventId}': { get: ok, patch: ok },
  });
  const booking = doc(
    'booking',
    {
      '/v1/events/{eventId}/bookings': { post: ok },
      '/v1/me/bookings': { get: { ...ok, tags: ['mine'] } },
    },
    { Booking: { type: 'object' } },
  );

  it('unions the paths and components of every upstream, tagging operations', () => {
    const { document, unrouted, conflicts } = mergeOpenApi(info, [
      { upstream: 'catalog', doc: catalog },
      { upstream: 'booking', doc: booking },
    ]);
    expect(Object.keys(document.paths ?? {}).sort()).toEqual([
      '/v1/events',
      '/v1/events/{eventId}',
      '/v1/events/{eventId}/bookings',
      '/v1/me/bookings',
    ]);
    expect(Object.keys(document.paths?.['/v1/events/{eventId}'] ?? {})).toEqual(['get', 'patch']);
    expect(document.paths?.['/v1/events']?.get?.tags).toEqual(['catalog']);
    expect(document.paths?.['/v1/me/bookings']?.get?.tags).toEqual(['mine']);
    expect(Object.keys(document.components?.schemas ?? {}).sort()).toEqual(['Booking', 'Problem']);
    expect(document.components?.securitySchemes).toEqual({
      bearerAuth: { type: 'http', scheme: 'bearer' },
    });
    expect(document.security).toEqual([{ bearerAuth: [] }]);
    expect(document.info).toEqual(info);
    expect(document.openapi).toBe('3.1.0');
    expect(document.tags).toEqual([
      { name: 'catalog', description: 'catalog service' },
      { name: 'booking', description: 'booking service' },
    ]);
    expect(unrouted).toEqual([]);
    expect(conflicts).toEqual([]);
  });

  it('leaves out operations the route map sends to another upstream', () => {
    const stray = doc('catalog', { '/v1/events/{eventId}/seats': { get: ok } });
    const { document, unrouted } = mergeOpenApi(info, [{ upstream: 'catalog', doc: stray }]);
    expect(document.paths).toEqual({});
    expect(unrouted).toEqual(['GET /v1/events/{eventId}/seats (catalog)']);
  });

  it('keeps the first of two different components under one name and reports it', () => {
    const other = doc('booking', {}, { Problem: { type: 'string' } });
    const { document, conflicts } = mergeOpenApi(info, [
      { upstream: 'catalog', doc: catalog },
      { upstream: 'booking', doc: other },
    ]);
    expect(document.components?.schemas?.Problem).toEqual(problem);
    expect(conflicts).toEqual(['components.schemas.Problem (booking)']);
  });
});
