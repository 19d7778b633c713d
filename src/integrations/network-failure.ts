/** Why a fetch() failed, in words an admin reads in the outbox: a timeout, or the socket's error code and message. */
export function describeNetworkFailure(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms (timed out)`;
  }
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      const detail = cause.message || (typeof code === 'string' ? code : cause.name);
      return `network error: ${typeof code === 'string' && !detail.includes(code) ? `${code} ` : ''}${detail}`;
    }
    return `network error: ${e.message || e.name}`;
  }
  return `network error: ${String(e)}`;
}
