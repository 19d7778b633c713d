import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Conditional GET (RFC 9110 §13.1.2): a read whose answer carries an ETag the request's
 * If-None-Match names (compared weakly, as the RFC says; or `*`) is answered 304 without a body, so
 * a client that keeps a copy of a lead re-reads only what changed. The handler still ran: the
 * answer is the caller's own view, within their reach, checked as for any read.
 */
export function notModified(req: FastifyRequest, reply: FastifyReply): boolean {
  if ((req.method !== 'GET' && req.method !== 'HEAD') || reply.statusCode !== 200) return false;
  const etag = reply.getHeader('etag');
  const wanted = req.headers['if-none-match'];
  if (typeof etag !== 'string' || wanted === undefined || !namesTag(wanted, etag)) return false;
  void reply.code(304);
  reply.removeHeader('content-type');
  reply.removeHeader('content-length');
  return true;
}

function namesTag(header: string | string[], etag: string): boolean {
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  if (value === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return value.split(',').some((tag) => opaque(tag) === opaque(etag));
}
