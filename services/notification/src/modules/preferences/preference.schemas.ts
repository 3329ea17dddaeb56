import { z } from 'zod';
import { NOTIFICATION_CHANNELS } from '../../domain.ts';
import { PREFERENCE_TYPES } from './preference.policy.ts';

export const preferenceSchema = z.object({
  type: z.enum(PREFERENCE_TYPES),
  channel: z.enum(NOTIFICATION_CHANNELS),
  enabled: z.boolean(),
});

/** GET answers the full matrix; PUT sets the entries it names and leaves the others as they are. */
export const preferencesBody = z.object({
  preferences: z
    .array(preferenceSchema)
    .max(PREFERENCE_TYPES.length * NOTIFICATION_CHANNELS.length)
    .superRefine((entries, ctx) => {
      const seen = new Set<string>();
      entries.forEach((entry, index) => {
        const key = `${entry.type}|${entry.channel}`;
        if (seen.has(key)) {
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `${entry.type}/${entry.channel} is listed twice`,
          });
        }
        seen.add(key);
      });
    }),
});
