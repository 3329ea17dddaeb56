import { buildEvent } from '@happening/contracts';
import { enqueueEvents, withTransaction } from '@happening/db';
import { DomainError } from '@happening/service-kit';
import { type Db, isUniqueViolation } from '../../shared/database.ts';
import { tokenEmail } from './token-email.policy.ts';
import { findUser, type User, type UserClaims, upsertUser } from './user.repository.ts';

/** The claims of a verified access token that identity-org mirrors. */
export interface TokenIdentity {
  sub: string;
  email?: string | null | undefined;
  emailVerified?: boolean | undefined;
  name?: string | undefined;
  /** The token's `phone_number` (E.164), if it carries one. */
  phone?: string | undefined;
  /** The token's `iat`, seconds since the epoch. */
  issuedAt?: number | undefined;
}

/**
 * Mirrors the caller's token into `users` on first contact and refreshes email, its verification,
 * name and phone when they change, publishing `identity.user_registered` with the user's version each time (once
 * per version, however often and concurrently the person calls).
 */
export async function syncUser(db: Db, identity: TokenIdentity, requestId: string): Promise<User> {
  const email = tokenEmail(identity.email);
  const claims = {
    id: identity.sub,
    email,
    emailVerified: identity.emailVerified ?? false,
    fullName: identity.name?.trim() || email.split('@')[0] || email,
    phone: identity.phone,
    issuedAt: identity.issuedAt === undefined ? undefined : new Date(identity.issuedAt * 1000),
  };
  // A first contact racing another of the same person can lose on a unique index the upsert
  // does not arbitrate (keycloak_id, email); a second attempt takes the conflict path instead.
  for (let attempt = 1; ; attempt++) {
    try {
      return await upsertInTransaction(db, claims, requestId);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      if (attempt < 3) continue;
      if (isUniqueViolation(error, 'users_email_key')) {
        throw new DomainError(
          'EMAIL_IN_USE',
          409,
          'Another account already uses the email address of your token.',
        );
      }
      throw error;
    }
  }
}

function upsertInTransaction(db: Db, claims: UserClaims, requestId: string): Promise<User> {
  return withTransaction(db, async (trx) => {
    const written = await upsertUser(trx, claims);
    if (written === undefined) return (await findUser(trx, claims.id))!;
    if (!written.announce) return written.user;
    // First contact, and again whenever the email, its verification, name or phone changes:
    // consumers that mail people keep the newest address, and link an invite to a person only
    // once their address is verified (the version orders the announcements).
    const event = buildEvent(
      'identity.user_registered',
      {
        userId: written.user.id,
        email: written.user.email,
        emailVerified: written.user.emailVerified,
        name: written.user.fullName,
        ...(written.user.phone !== null && { phone: written.user.phone }),
      },
      {
        source: 'identity-org',
        aggregate: { type: 'user', id: written.user.id, version: written.version },
        correlationId: requestId,
        // The database's clock, as every identity-org event's.
        occurredAt: written.writtenAt,
      },
    );
    await enqueueEvents(trx, [event]);
    return written.user;
  });
}
