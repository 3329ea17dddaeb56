import { createHash, randomBytes } from 'node:crypto';

/** A fresh single-use invite token: 32 random bytes, base64url. Only its hash is stored. */
export function newInviteToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of the token, hex: what the database keeps and looks invites up by. */
export function hashInviteToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The link the invite email carries. */
export function acceptUrl(publicAppUrl: string, token: string): string {
  const url = new URL('/invites/accept', publicAppUrl);
  url.searchParams.set('token', token);
  return url.toString();
}
