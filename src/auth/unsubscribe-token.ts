import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { sameSecret } from './secrets.js';

/**
 * The token in a one-click unsubscribe link (RFC 8058): the recipient's address, encrypted and
 * authenticated with a key only the server has (UNSUBSCRIBE_SECRET), so the URL names nobody in
 * clear, cannot be forged for another address, and needs no database row to be checked.
 *
 * Deterministic authenticated encryption (the synthetic-IV construction of RFC 5297, with HMAC):
 * the IV is HMAC-SHA256(macKey, address) cut to 16 bytes, the address is encrypted with AES-256-CTR
 * under that IV, and reading decrypts and recomputes the IV, which must match. The same address
 * always gives the same token, so a message composed twice (a resend after a crash) is the same
 * message. Token: base64url(version byte, IV, ciphertext).
 */

const VERSION = 1;
const IV_BYTES = 16;
/** A token longer than this is not one of ours (an address is at most 320 characters). */
const MAX_TOKEN_CHARS = 600;

interface Keys {
  mac: Buffer;
  enc: Buffer;
}

/** Two keys from the one secret, one per purpose, so neither use weakens the other. */
function keysOf(secret: string): Keys {
  const derive = (purpose: string) => createHmac('sha256', secret).update(`stageflow unsubscribe ${purpose}`).digest();
  return { mac: derive('mac'), enc: derive('enc') };
}

function ivOf(keys: Keys, address: string): Buffer {
  return createHmac('sha256', keys.mac).update(address).digest().subarray(0, IV_BYTES);
}

/** The address as links carry it: the product compares addresses without case or surrounding spaces. */
function normalise(address: string): string {
  return address.trim().toLowerCase();
}

export interface UnsubscribeTokens {
  /** The token for an address (normalised first: case and surrounding spaces do not matter). */
  make(address: string): string;
  /** The address a token carries, or null for anything this server did not make (tampered, cut, another key). */
  read(token: string): string | null;
}

/**
 * Tokens made with `secret`. `previous` are secrets it replaced: links made with them (in mail
 * already sent, which people may use months later) are still read, so a key can be rotated
 * without breaking them; once the old mail no longer matters, the old secret is dropped.
 */
export function unsubscribeTokens(secret: string, previous: readonly string[] = []): UnsubscribeTokens {
  if (secret.length === 0) throw new Error('an unsubscribe token needs a secret');
  const keys = keysOf(secret);
  const readers = [keys, ...previous.map(keysOf)];
  return {
    make(address) {
      const plain = Buffer.from(normalise(address), 'utf8');
      const iv = ivOf(keys, plain.toString('utf8'));
      const cipher = createCipheriv('aes-256-ctr', keys.enc, iv);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, body]).toString('base64url');
    },
    read(token) {
      if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
      const raw = Buffer.from(token, 'base64url');
      if (raw.length <= 1 + IV_BYTES || raw[0] !== VERSION) return null;
      for (const k of readers) {
        const address = readWith(k, raw);
        if (address !== null) return address;
      }
      return null;
    },
  };
}

/** The address in a token's bytes if `keys` made it, else null. */
function readWith(keys: Keys, raw: Buffer): string | null {
  const iv = raw.subarray(1, 1 + IV_BYTES);
  const decipher = createDecipheriv('aes-256-ctr', keys.enc, iv);
  const address = Buffer.concat([decipher.update(raw.subarray(1 + IV_BYTES)), decipher.final()]).toString('utf8');
  // Constant time: the comparison says nothing about how close a forged IV came.
  const expected = ivOf(keys, address).toString('base64url');
  return sameSecret(expected, iv.toString('base64url')) ? address : null;
}
