import { z } from 'zod';

/** Services that publish domain events. */
export const SOURCES = ['identity-org', 'catalog', 'booking', 'notification'] as const;
export type Source = (typeof SOURCES)[number];

export const aggregateRefSchema = z.object({
  type: z.string().min(1),
  id: z.string().min(1),
  version: z.number().int().nonnegative(),
});
export type AggregateRef = z.infer<typeof aggregateRefSchema>;

/** The envelope every domain event travels in; `data` is checked against the type's own schema. */
export const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().regex(/^[a-z]+\.[a-z_]+$/, 'must be <context>.<event>'),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  source: z.enum(SOURCES),
  orgId: z.uuid().optional(),
  aggregate: aggregateRefSchema,
  correlationId: z.string().min(1),
  causationId: z.string().min(1).optional(),
  data: z.unknown(),
});
export type RawEnvelope = z.infer<typeof envelopeSchema>;
