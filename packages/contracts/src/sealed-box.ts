import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Authenticated encryption of short texts (AES-256-GCM, random IV), as base64 of IV, tag and
 * ciphertext. `context`, when given, is authenticated but not stored (GCM additional data): a text
 * sealed for one context opens only for that same context.
 */
export function createSealedBox(key: Buffer) {
  if (key.length !== 32) throw new Error('the sealing key must be 32 bytes');
  return {
    seal(plaintext: string, context?: string): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, key, iv);
      if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
      const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
    },
    open(sealed: string, context?: string): string {
      const raw = Buffer.from(sealed, 'base64');
      if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('not a sealed text');
      const decipher = createDecipheriv(ALGORITHM, key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'));
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}

/** Seals and opens texts under one 32-byte key. */
export type SealedBox = ReturnType<typeof createSealedBox>;

/**
 * A box over several keys, for a rotation without a gap: it seals under the first and opens what
 * any of them sealed.
 */
export function createSealedBoxRing(keys: readonly Buffer[]): SealedBox {
  const [first, ...others] = keys.map(createSealedBox);
  if (!first) throw new Error('a key ring needs at least one key');
  return {
    seal: (plaintext, context) => first.seal(plaintext, context),
    open(sealed, context) {
      try {
        return first.open(sealed, context);
      } catch (error) {
        for (const box of others) {
          try {
            return box.open(sealed, context);
          } catch {
            // the next key, then the first's error
          }
        }
        throw error;
      }
    },
  };
}
