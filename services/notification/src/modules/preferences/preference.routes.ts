import type { App } from '@happening/service-kit';
import type { Kysely } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import { preferenceMatrix } from './preference.policy.ts';
import { savePreferences, storedPreferences } from './preference.repository.ts';
import { preferencesBody, preferencesView } from './preference.schemas.ts';

export function registerPreferenceRoutes(api: App, db: Kysely<NotificationDb>): void {
  const matrixOf = async (userId: string) => ({
    preferences: preferenceMatrix(await storedPreferences(db, [userId])),
  });

  api.get(
    '/v1/me/notification-preferences',
    { schema: { response: { 200: preferencesView } } },
    async (request) => matrixOf(request.principal.sub),
  );

  api.put(
    '/v1/me/notification-preferences',
    {
      schema: {
        body: preferencesBody,
        response: { 200: preferencesView },
      },
    },
    async (request) => {
      await savePreferences(db, request.principal.sub, request.body.preferences);
      return matrixOf(request.principal.sub);
    },
  );
}
