import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * Passwords as NIST SP 800-63B and OWASP advise: at least 8 characters, no composition rules, a
 * check against a list of commonly used passwords (zxcvbn-ts's 49k list), and argon2id with
 * OWASP's minimum parameters (19 MiB, 2 iterations, 1 lane).
 */

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

const ARGON2 = {
  algorithm: 2 /* Algorithm.Argon2id, a const enum that verbatimModuleSyntax cannot import */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

const common = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));

/** Why a new password is refused, or null. */
export function passwordProblem(password: string): string | null {
  if ([...password].length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  if (common.has(password.toLowerCase())) return 'is one of the most commonly used passwords; choose another';
  return null;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** A hash of a password nobody has, so a login for an unknown email costs as much as a real one. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  return (decoy ??= hashPassword('decoy password that matches no account'));
}
