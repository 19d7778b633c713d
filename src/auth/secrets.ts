import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer secrets (session cookies, API tokens, setup links): 256 random bits, base64url, with a
 * recognisable prefix so a leaked token is easy to spot in logs and by secret scanners. Only the
 * SHA-256 of a secret is stored; a high-entropy secret needs no slow hash.
 */

export const TOKEN_PREFIX = 'sf_pat_';
export const SESSION_PREFIX = 'sf_ses_';
export const SETUP_PREFIX = 'sf_setup_';

export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
