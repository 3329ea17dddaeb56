import { emailAddressSchema } from '@happening/contracts';
import { DomainError } from '@happening/service-kit';

/**
 * The address identity-org mirrors from a token's `email` claim, trimmed: 403 `EMAIL_REQUIRED`
 * without one, 403 `EMAIL_INVALID` for one `emailAddressSchema` refuses (a space, control
 * characters, more than 320 characters). Checked before anything is written: such an address
 * could be neither announced in `user_registered` nor invited, and every request of its holder
 * failed with a 500 instead.
 */
export function tokenEmail(claim: string | null | undefined): string {
  const email = claim?.trim();
  if (!email) {
    throw new DomainError('EMAIL_REQUIRED', 403, 'Your token carries no email address.');
  }
  if (!emailAddressSchema.safeParse(email).success) {
    throw new DomainError(
      'EMAIL_INVALID',
      403,
      "Your account's email address cannot be used here; ask your administrator to correct it.",
    );
  }
  return email;
}
