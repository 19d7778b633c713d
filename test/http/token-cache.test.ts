import { afterEach, describe, expect, it, vi } from 'vitest';
import { TOKEN_CACHE_MS, TokenCache } from '../../src/http/token-cache.js';
import type { ApiToken } from '../../src/store/api-tokens.js';
import { authChangeCount, noteAuthChange } from '../../src/store/auth-changes.js';
import type { Member } from '../../src/store/members.js';

const token: ApiToken = {
  id: 'tok_1',
  memberId: 'm1',
  name: 'ci',
  scopes: ['*'],
  createdAt: 0,
  expiresAt: 10_000,
  revokedAt: null,
  lastUsedAt: null,
};
const member: Member = {
  id: 'm1',
  email: 'm1@test.example',
  name: 'M One',
  role: 'rep',
  canEditProcess: false,
  disabledAt: null,
  createdAt: 0,
  updatedAt: 0,
  version: 1,
};

describe('TokenCache', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('serves an entry until TOKEN_CACHE_MS after it was read, and not after', () => {
    const clock = vi.spyOn(performance, 'now').mockReturnValue(5_000);
    const cache = new TokenCache();
    cache.set('h', token, member, authChangeCount(), 5_000);
    clock.mockReturnValue(5_000 + TOKEN_CACHE_MS - 1);
    expect(cache.get('h')?.member.id).toBe('m1');
    clock.mockReturnValue(5_000 + TOKEN_CACHE_MS);
    expect(cache.get('h')).toBeUndefined();
    expect(cache.get('other')).toBeUndefined();
  });

  it('drops every entry when this process changes a token or member', () => {
    const cache = new TokenCache();
    cache.set('h', token, member, authChangeCount(), performance.now());
    expect(cache.get('h')).toBeDefined();
    noteAuthChange();
    expect(cache.get('h')).toBeUndefined();
  });

  it('does not serve a read that a change overlapped', () => {
    const cache = new TokenCache();
    const before = authChangeCount();
    noteAuthChange(); // a revocation lands while the read is under way
    cache.set('h', token, member, before, performance.now());
    expect(cache.get('h')).toBeUndefined();
  });

  it('lets misses that arrive together share one read, and keeps its result', async () => {
    const cache = new TokenCache();
    let reads = 0;
    let finish: (v: { token: ApiToken; member: Member } | null) => void = () => undefined;
    const read = () => {
      reads++;
      return new Promise<{ token: ApiToken; member: Member } | null>((r) => (finish = r));
    };
    const first = cache.lookup('h', read);
    const second = cache.lookup('h', read);
    finish({ token, member });
    expect((await first)?.member.id).toBe('m1');
    expect((await second)?.member.id).toBe('m1');
    expect(reads).toBe(1);
    expect(cache.get('h')?.token.id).toBe('tok_1');
    await cache.lookup('h', read);
    expect(reads).toBe(1);
  });

  it('does not let a miss join a read that began before a token or member changed', async () => {
    const cache = new TokenCache();
    const pending: ((v: { token: ApiToken; member: Member } | null) => void)[] = [];
    const read = () => new Promise<{ token: ApiToken; member: Member } | null>((r) => pending.push(r));
    const before = cache.lookup('h', read);
    noteAuthChange(); // say, the token is revoked while the first read is under way
    const after = cache.lookup('h', read);
    expect(pending).toHaveLength(2);
    pending[1]?.({ token: { ...token, revokedAt: 1 }, member });
    pending[0]?.({ token, member });
    expect((await after)?.token.revokedAt).toBe(1);
    expect((await before)?.token.revokedAt).toBeNull();
    // The read that the change overlapped is not served to later requests.
    expect(cache.get('h')?.token.revokedAt).toBe(1);
  });

  it('caches nothing for an unknown token', async () => {
    const cache = new TokenCache();
    expect(await cache.lookup('h', () => Promise.resolve(null))).toBeNull();
    expect(cache.get('h')).toBeUndefined();
  });
});
