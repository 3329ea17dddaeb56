import { lockNameUntilCommit, type Trx } from '../../shared/database.ts';

/**
 * Serialises the invite creations of one address, in every organization, until commit, so that
 * concurrent invites from different organizations cannot have more than
 * `INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS` mailed together (each organization's own lock keeps only its own invites apart). Take it after the
 * organization lock, never before one: nothing takes an organization lock while holding it, so
 * two creations waiting for each other's address cannot deadlock. The key is namespaced as
 * `lockJoinsOf`'s (`owner:<userId>`) is; `email` is the lower-cased address invites store.
 */
export async function lockInvitesTo(trx: Trx, email: string): Promise<void> {
  await lockNameUntilCommit(trx, `invitee:${email}`);
}
