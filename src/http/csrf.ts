import type { FastifyRequest } from 'fastify';
import { sameSecret } from '../auth/secrets.js';
import { Problem } from './problem.js';

/**
 * CSRF: a cookie-authenticated write must carry the session's token in X-CSRF-Token (synchronizer
 * token, given at login and by GET /auth/me). A cross-site form cannot read or set that header.
 * Token-authenticated calls carry no ambient credential and need no CSRF token.
 */

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function checkCsrf(req: FastifyRequest): void {
  const c = req.caller;
  if (!c?.session || SAFE.has(req.method)) return;
  const sent = req.headers['x-csrf-token'];
  if (typeof sent !== 'string' || !sameSecret(sent, c.session.csrf))
    throw new Problem('csrf-failed', 'send the X-CSRF-Token header given at login with every write');
}
