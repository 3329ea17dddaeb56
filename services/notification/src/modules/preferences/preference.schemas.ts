import { z } from 'zod';
import { NOTIFICATION_CHANNELS } from '../../domain.ts';
import { PREFERENCE_TYPES } from './preference.policy.ts';

const preferenceFields = {
  type: z.enum(PREFERENCE_TYPES),
  channel: z.enum(NOTIFICATION_CHANNELS),
  enabled: z.boolean(),
};

/** The full matrix, as GET and PUT answer it. */
export const preferencesView = z.object({ preferences: z.array(z.object(preferenceFields)) });

/**
 * PUT sets the entries it names and leaves the others as they are. Unknown fields are refused,
 * not dropped, so a misspelt field never passes for a change that was made.
 */
export const preferencesBody = z.strictObject({
  preferences: z
    .array(z.strictObject(preferenceFields))
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
