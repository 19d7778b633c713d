import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startMailchimpStandin, subscriberHash, type MailchimpStandin } from '../support/mailchimp-standin.js';

/**
 * Pins the Mailchimp stand-in to the contract it claims (Mailchimp Marketing API v3 as documented),
 * with plain fetch over a real loopback socket, so a client tested against it is tested against
 * Mailchimp's documented behaviour and failures.
 */

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: { field: string; message: string }[];
}

interface MemberJson {
  id: string;
  email_address: string;
  unique_email_id: string;
  status: string;
  merge_fields: Record<string, string>;
  tags: { id: number; name: string }[];
  tags_count: number;
  list_id: string;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

const ADA = 'Ada.Lovelace@Example.com';
const ADA_HASH = subscriberHash(ADA);

let mc: MailchimpStandin;
const extra: MailchimpStandin[] = [];

beforeEach(async () => {
  mc = await startMailchimpStandin();
});

afterEach(async () => {
  await mc.close();
  for (const s of extra.splice(0)) await s.close();
});

function basic(password: string, user = 'stageflow'): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  opts: { authorization?: string | null; raw?: string; on?: MailchimpStandin; signal?: AbortSignal } = {},
): Promise<Reply> {
  const target = opts.on ?? mc;
  const headers: Record<string, string> = {};
  const authorization = opts.authorization === undefined ? basic(target.apiKey) : opts.authorization;
  if (authorization !== null) headers['Authorization'] = authorization;
  let payload: string | undefined = opts.raw;
  if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${target.baseUrl}${path}`, {
    method,
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const memberPath = (email: string, list = 'list-a'): string => `/lists/${list}/members/${subscriberHash(email)}`;

function asProblem(reply: Reply, status: number, title: string): Problem {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const p = JSON.parse(reply.text) as Problem;
  expect(p.title).toBe(title);
  expect(p.status).toBe(status);
  expect(p.type).toMatch(/^https:\/\/mailchimp\.com\/developer\/marketing\/docs\/errors\//);
  expect(p.detail.length).toBeGreaterThan(0);
  expect(p.instance).toMatch(/^[0-9a-f-]{36}$/);
  return p;
}

function asMember(reply: Reply): MemberJson {
  expect(reply.status).toBe(200);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  return JSON.parse(reply.text) as MemberJson;
}

async function subscribe(email: string, extraBody: Record<string, unknown> = {}, list = 'list-a'): Promise<Reply> {
  return call('PUT', memberPath(email, list), { email_address: email, status_if_new: 'subscribed', ...extraBody });
}

describe('addresses and keys', () => {
  it('subscriberHash is the lowercase hex MD5 of the lowercased address (Mailchimp docs example)', () => {
    expect(subscriberHash('urist.mcvankab@freddiesjokes.com')).toBe('62eeb292278cc15f5817cb78f7790b08');
    expect(subscriberHash('Urist.McVankab@FreddiesJokes.com')).toBe('62eeb292278cc15f5817cb78f7790b08');
  });

  it('listens on loopback under /3.0 with a key that carries a data-centre suffix', async () => {
    expect(mc.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/3\.0$/);
    expect(mc.apiKey).toMatch(/^[0-9a-f]{32}-us\d+$/);
    const other = await startMailchimpStandin({ apiKey: 'fixedkey0123-us7' });
    extra.push(other);
    expect(other.apiKey).toBe('fixedkey0123-us7');
    expect(other.baseUrl).not.toBe(mc.baseUrl);
  });
});

describe('authentication', () => {
  it('accepts HTTP Basic with any user name and the key as password', async () => {
    const reply = await subscribe(ADA);
    expect(reply.status).toBe(200);
    const again = await call('GET', memberPath(ADA), undefined, { authorization: basic(mc.apiKey, 'anystring') });
    expect(asMember(again).email_address).toBe(ADA);
  });

  it('answers 401 "API Key Missing" without an Authorization header', async () => {
    asProblem(await call('GET', memberPath(ADA), undefined, { authorization: null }), 401, 'API Key Missing');
  });

  it('answers 401 "API Key Invalid" for a wrong key and changes nothing', async () => {
    const reply = await call(
      'PUT',
      memberPath(ADA),
      { email_address: ADA, status_if_new: 'subscribed' },
      { authorization: basic('0123456789abcdef0123456789abcdef-us14') },
    );
    asProblem(reply, 401, 'API Key Invalid');
    expect(mc.member('list-a', ADA)).toBeUndefined();
    asProblem(
      await call('GET', memberPath(ADA), undefined, { authorization: `Bearer ${mc.apiKey}` }),
      401,
      'API Key Invalid',
    );
  });

  it('answers 403 "Wrong Datacenter" for the right key with another data-centre suffix', async () => {
    const wrongDc = mc.apiKey.replace(/-us\d+$/, '-us99');
    asProblem(
      await call('GET', memberPath(ADA), undefined, { authorization: basic(wrongDc) }),
      403,
      'Wrong Datacenter',
    );
  });
});

describe('routing', () => {
  it('answers 404 "Resource Not Found" for a list that does not exist', async () => {
    asProblem(await subscribe(ADA, {}, 'no-such-list'), 404, 'Resource Not Found');
  });

  it('only has the lists it was started with', async () => {
    const own = await startMailchimpStandin({ lists: ['abc123'] });
    extra.push(own);
    const ok = await call('PUT', memberPath(ADA, 'abc123'), { email_address: ADA, status: 'subscribed' }, { on: own });
    expect(ok.status).toBe(200);
    const missing = await call(
      'PUT',
      memberPath(ADA, 'list-a'),
      { email_address: ADA, status: 'subscribed' },
      { on: own },
    );
    asProblem(missing, 404, 'Resource Not Found');
  });

  it('answers 404 for paths it does not serve and 405 with Allow for the wrong method', async () => {
    asProblem(await call('GET', '/lists/list-a/nothing-here'), 404, 'Resource Not Found');
    const reply = await call('POST', memberPath(ADA), { email_address: ADA });
    asProblem(reply, 405, 'Method Not Allowed');
    expect(reply.headers.get('allow')).toBe('GET, PUT, PATCH, DELETE');
  });

  it('answers 400 "Invalid Action" for an action that does not exist', async () => {
    await subscribe(ADA);
    asProblem(await call('POST', `${memberPath(ADA)}/actions/explode`), 400, 'Invalid Action');
  });
});

describe('PUT /lists/{list}/members/{hash} (add or update)', () => {
  it('creates a member with status_if_new and answers the member like Mailchimp', async () => {
    const reply = await subscribe(ADA, { merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' } });
    const m = asMember(reply);
    expect(m).toMatchObject({
      id: ADA_HASH,
      email_address: ADA,
      status: 'subscribed',
      merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' },
      tags: [],
      tags_count: 0,
      list_id: 'list-a',
    });
    expect(m.unique_email_id).toMatch(/^[0-9a-f]{10}$/);
    expect(mc.member('list-a', ADA)).toEqual({
      email_address: ADA,
      status: 'subscribed',
      merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' },
      tags: [],
    });
    expect(mc.member('list-b', ADA)).toBeUndefined();
  });

  it('creates a member with status when status_if_new is absent', async () => {
    const reply = await call('PUT', memberPath(ADA), { email_address: ADA, status: 'pending' });
    expect(asMember(reply).status).toBe('pending');
  });

  it('ignores status_if_new for an existing member; status changes it; merge fields are merged', async () => {
    await subscribe(ADA, { merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' } });
    await call('PATCH', memberPath(ADA), { status: 'unsubscribed' });
    const kept = await call('PUT', memberPath(ADA), {
      email_address: ADA,
      status_if_new: 'subscribed',
      merge_fields: { LNAME: 'King' },
    });
    expect(asMember(kept)).toMatchObject({ status: 'unsubscribed', merge_fields: { FNAME: 'Ada', LNAME: 'King' } });
    const changed = await call('PUT', memberPath(ADA), { email_address: ADA, status: 'subscribed' });
    expect(asMember(changed).status).toBe('subscribed');
    expect(mc.member('list-a', ADA)?.status).toBe('subscribed');
  });

  it('is idempotent: the same PUT twice leaves one member with the same id', async () => {
    const first = asMember(await subscribe(ADA));
    const second = asMember(await subscribe(ADA));
    expect(second.id).toBe(first.id);
    expect(second.unique_email_id).toBe(first.unique_email_id);
  });

  it('accepts the address itself in place of the hash, as documented', async () => {
    const reply = await call('PUT', `/lists/list-a/members/${encodeURIComponent(ADA)}`, {
      email_address: ADA,
      status_if_new: 'subscribed',
    });
    expect(asMember(reply).id).toBe(ADA_HASH);
  });

  it('answers 400 "Invalid Resource" when the hash is not the MD5 of the lowercased address', async () => {
    const otherHash = `/lists/list-a/members/${subscriberHash('someone.else@example.com')}`;
    const p = asProblem(
      await call('PUT', otherHash, { email_address: ADA, status_if_new: 'subscribed' }),
      400,
      'Invalid Resource',
    );
    expect(p.errors?.map((e) => e.field)).toEqual(['email_address']);
    const unlowered = `/lists/list-a/members/${createHash('md5').update(ADA).digest('hex')}`;
    asProblem(
      await call('PUT', unlowered, { email_address: ADA, status_if_new: 'subscribed' }),
      400,
      'Invalid Resource',
    );
    expect(mc.member('list-a', ADA)).toBeUndefined();
  });

  it('answers 400 "Invalid Resource" for a new member without status_if_new or status', async () => {
    const p = asProblem(await call('PUT', memberPath(ADA), { email_address: ADA }), 400, 'Invalid Resource');
    expect(p.errors?.map((e) => e.field)).toEqual(['status_if_new']);
    expect(mc.member('list-a', ADA)).toBeUndefined();
  });

  it('answers 400 "Invalid Resource" for a new member without email_address', async () => {
    const p = asProblem(await call('PUT', memberPath(ADA), { status_if_new: 'subscribed' }), 400, 'Invalid Resource');
    expect(p.errors?.map((e) => e.field)).toEqual(['email_address']);
  });

  it('answers 400 "Invalid Resource" for an unknown status, a non-string merge field or a bad address', async () => {
    const bad = asProblem(
      await call('PUT', memberPath(ADA), { email_address: ADA, status_if_new: 'subscribe', merge_fields: { AGE: 3 } }),
      400,
      'Invalid Resource',
    );
    expect(bad.errors?.map((e) => e.field).sort()).toEqual(['merge_fields.AGE', 'status_if_new']);
    const address = 'not-an-address';
    const p = asProblem(
      await call('PUT', memberPath(address), { email_address: address, status_if_new: 'subscribed' }),
      400,
      'Invalid Resource',
    );
    expect(p.detail).toBe('Please provide a valid email address.');
  });

  it('answers 400 "JSON Parse Error" for a body that is not JSON', async () => {
    const reply = await call('PUT', memberPath(ADA), undefined, { raw: '{"email_address": "ada@' });
    const p = asProblem(reply, 400, 'JSON Parse Error');
    expect(p.detail).toBe('We encountered an unspecified JSON parsing error.');
    asProblem(await call('PUT', memberPath(ADA), ['not', 'an', 'object']), 400, 'Invalid Resource');
  });
});

describe('PATCH, GET and DELETE /lists/{list}/members/{hash}', () => {
  it('PATCH answers 404 for an absent member and does not create it', async () => {
    asProblem(await call('PATCH', memberPath(ADA), { status: 'unsubscribed' }), 404, 'Resource Not Found');
    expect(mc.member('list-a', ADA)).toBeUndefined();
  });

  it('PATCH applies status and merge fields, and an API unsubscribe can be undone through the API', async () => {
    await subscribe(ADA, { merge_fields: { FNAME: 'Ada' } });
    const reply = await call('PATCH', memberPath(ADA), { status: 'unsubscribed', merge_fields: { LNAME: 'Lovelace' } });
    expect(asMember(reply)).toMatchObject({
      status: 'unsubscribed',
      merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' },
    });
    expect(mc.member('list-a', ADA)?.status).toBe('unsubscribed');
    expect(asMember(await call('PATCH', memberPath(ADA), { status: 'subscribed' })).status).toBe('subscribed');
  });

  it('GET answers the member, or 404', async () => {
    asProblem(await call('GET', memberPath(ADA)), 404, 'Resource Not Found');
    await subscribe(ADA);
    expect(asMember(await call('GET', memberPath(ADA))).email_address).toBe(ADA);
  });

  it('DELETE archives with 204 (the member stays readable as archived); 404 if absent', async () => {
    asProblem(await call('DELETE', memberPath(ADA)), 404, 'Resource Not Found');
    await subscribe(ADA);
    const reply = await call('DELETE', memberPath(ADA));
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect(mc.member('list-a', ADA)?.status).toBe('archived');
    expect(asMember(await call('GET', memberPath(ADA))).status).toBe('archived');
    expect(mc.isForgotten('list-a', ADA)).toBe(false);
  });

  it('a PUT re-adds an archived member with status_if_new', async () => {
    await subscribe(ADA);
    await call('DELETE', memberPath(ADA));
    const reply = await call('PUT', memberPath(ADA), { email_address: ADA, status_if_new: 'pending' });
    expect(asMember(reply).status).toBe('pending');
  });
});

describe('POST .../actions/delete-permanent', () => {
  it('erases the member (204) and forgets the address for that list only', async () => {
    await subscribe(ADA);
    const reply = await call('POST', `${memberPath(ADA)}/actions/delete-permanent`);
    expect(reply.status).toBe(204);
    expect(mc.member('list-a', ADA)).toBeUndefined();
    expect(mc.isForgotten('list-a', ADA)).toBe(true);
    expect(mc.isForgotten('list-b', ADA)).toBe(false);
    expect((await subscribe(ADA, {}, 'list-b')).status).toBe(200);
    expect(mc.member('list-b', ADA)?.status).toBe('subscribed');
    asProblem(await call('GET', memberPath(ADA)), 404, 'Resource Not Found');
    asProblem(await call('PATCH', memberPath(ADA), { status: 'unsubscribed' }), 404, 'Resource Not Found');
  });

  it('answers 400 "Forgotten Email Not Subscribed" to every later PUT of that address', async () => {
    await subscribe(ADA);
    await call('POST', `${memberPath(ADA)}/actions/delete-permanent`);
    for (const status of ['subscribed', 'pending', 'unsubscribed']) {
      const p = asProblem(
        await call('PUT', memberPath(ADA), { email_address: ADA, status_if_new: status, status }),
        400,
        'Forgotten Email Not Subscribed',
      );
      expect(p.detail).toContain(ADA);
    }
    expect(mc.member('list-a', ADA)).toBeUndefined();
  });

  it('answers 404 for an absent member', async () => {
    asProblem(await call('POST', `${memberPath(ADA)}/actions/delete-permanent`), 404, 'Resource Not Found');
    expect(mc.isForgotten('list-a', ADA)).toBe(false);
  });
});

describe('POST .../members/{hash}/tags', () => {
  it('adds and removes tags with 204; the member shows them as {id, name}', async () => {
    await subscribe(ADA);
    const add = await call('POST', `${memberPath(ADA)}/tags`, {
      tags: [
        { name: 'customer', status: 'active' },
        { name: 'trial', status: 'active' },
      ],
    });
    expect(add.status).toBe(204);
    expect(add.text).toBe('');
    expect(mc.member('list-a', ADA)?.tags).toEqual(['customer', 'trial']);
    const remove = await call('POST', `${memberPath(ADA)}/tags`, { tags: [{ name: 'trial', status: 'inactive' }] });
    expect(remove.status).toBe(204);
    expect(mc.member('list-a', ADA)?.tags).toEqual(['customer']);
    const m = asMember(await call('GET', memberPath(ADA)));
    expect(m.tags).toEqual([{ id: expect.any(Number) as number, name: 'customer' }]);
    expect(m.tags_count).toBe(1);
    const listed = await call('GET', `${memberPath(ADA)}/tags`);
    expect(listed.status).toBe(200);
    expect((JSON.parse(listed.text) as { total_items: number }).total_items).toBe(1);
  });

  it('answers 404 for an absent member and 400 "Invalid Resource" for a malformed body', async () => {
    asProblem(
      await call('POST', `${memberPath(ADA)}/tags`, { tags: [{ name: 'x', status: 'active' }] }),
      404,
      'Resource Not Found',
    );
    await subscribe(ADA);
    const p = asProblem(
      await call('POST', `${memberPath(ADA)}/tags`, { tags: [{ name: 'x', status: 'on' }] }),
      400,
      'Invalid Resource',
    );
    expect(p.errors?.map((e) => e.field)).toEqual(['tags.item:0.status']);
    expect(mc.member('list-a', ADA)?.tags).toEqual([]);
  });
});

describe('compliance state', () => {
  it('refuses to make a member in compliance state subscribed, by PUT status or PATCH', async () => {
    await subscribe(ADA);
    mc.putInComplianceState('list-a', ADA);
    expect(mc.member('list-a', ADA)?.status).toBe('unsubscribed');
    const put = asProblem(
      await call('PUT', memberPath(ADA), { email_address: ADA, status_if_new: 'subscribed', status: 'subscribed' }),
      400,
      'Member In Compliance State',
    );
    expect(put.detail).toBe(
      `${ADA} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`,
    );
    asProblem(await call('PATCH', memberPath(ADA), { status: 'subscribed' }), 400, 'Member In Compliance State');
    expect(mc.member('list-a', ADA)?.status).toBe('unsubscribed');
  });

  it('still updates merge fields when only status_if_new is sent, and allows pending (re-confirmation)', async () => {
    mc.putInComplianceState('list-a', ADA);
    const upsert = await call('PUT', memberPath(ADA), {
      email_address: ADA,
      status_if_new: 'subscribed',
      merge_fields: { FNAME: 'Ada' },
    });
    expect(asMember(upsert)).toMatchObject({ status: 'unsubscribed', merge_fields: { FNAME: 'Ada' } });
    const pending = await call('PATCH', memberPath(ADA), { status: 'pending' });
    expect(asMember(pending).status).toBe('pending');
  });

  it('keeps a cleaned member cleaned, and the state survives archiving', async () => {
    await call('PUT', memberPath(ADA), { email_address: ADA, status: 'cleaned' });
    mc.putInComplianceState('list-a', ADA);
    expect(mc.member('list-a', ADA)?.status).toBe('cleaned');
    await call('DELETE', memberPath(ADA));
    asProblem(await subscribe(ADA), 400, 'Member In Compliance State');
  });
});

describe('faults', () => {
  it('consumes faults one per request, in order, before auth', async () => {
    mc.failNext({ status: 503 }, { status: 500, body: 'problem' });
    asProblem(await call('GET', memberPath(ADA), undefined, { authorization: null }), 503, 'Service Unavailable');
    asProblem(await call('GET', memberPath(ADA)), 500, 'Internal Server Error');
    asProblem(await call('GET', memberPath(ADA)), 404, 'Resource Not Found');
  });

  it('a faulted request changes nothing', async () => {
    mc.failNext({ status: 429 });
    asProblem(await subscribe(ADA), 429, 'Too Many Requests');
    expect(mc.member('list-a', ADA)).toBeUndefined();
  });

  it("body 'none' answers with an empty body (403 and 429 at extreme volume)", async () => {
    mc.failNext({ status: 403, body: 'none' }, { status: 429, body: 'none' });
    for (const status of [403, 429]) {
      const reply = await subscribe(ADA);
      expect(reply.status).toBe(status);
      expect(reply.text).toBe('');
      expect(reply.headers.get('content-type')).toBeNull();
    }
    expect(mc.member('list-a', ADA)).toBeUndefined();
  });

  it("body 'html' answers with an HTML error page, as a proxy would", async () => {
    mc.failNext({ status: 502, body: 'html' });
    const reply = await subscribe(ADA);
    expect(reply.status).toBe(502);
    expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
    expect(reply.text).toMatch(/^<html>.*502 Bad Gateway/);
  });

  it("'drop' destroys the socket without an answer", async () => {
    mc.failNext('drop');
    await expect(subscribe(ADA)).rejects.toThrow(TypeError);
    expect(mc.member('list-a', ADA)).toBeUndefined();
    expect(mc.requests.at(-1)?.status).toBe(0);
    expect((await subscribe(ADA)).status).toBe(200);
  });

  it('{delayMs} waits, then handles normally', async () => {
    mc.failNext({ delayMs: 250 });
    const started = Date.now();
    const reply = await subscribe(ADA);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(asMember(reply).status).toBe('subscribed');
  });

  it('{delayMs} lets a client time out, and the change still happens, as on Mailchimp', async () => {
    mc.failNext({ delayMs: 300 });
    await expect(
      call(
        'PUT',
        memberPath(ADA),
        { email_address: ADA, status_if_new: 'subscribed' },
        { signal: AbortSignal.timeout(50) },
      ),
    ).rejects.toThrow(/aborted|timeout/i);
    expect(mc.member('list-a', ADA)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(mc.member('list-a', ADA)?.status).toBe('subscribed');
    expect(mc.requests[0]?.status).toBe(200);
  });
});

describe('connection limit', () => {
  it('answers 429 "Too Many Requests" to requests beyond the limit and reports maxInFlight', async () => {
    const small = await startMailchimpStandin({ connectionLimit: 2 });
    extra.push(small);
    small.failNext({ delayMs: 300 }, { delayMs: 300 });
    const first = [
      call('GET', memberPath(ADA), undefined, { on: small }),
      call('GET', memberPath(ADA), undefined, { on: small }),
    ];
    while (small.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const third = await call('GET', memberPath(ADA), undefined, { on: small });
    const p = asProblem(third, 429, 'Too Many Requests');
    expect(p.detail).toBe('You have exceeded the limit of 2 simultaneous connections.');
    const firstTwo = await Promise.all(first);
    expect(firstTwo.map((r) => r.status)).toEqual([404, 404]);
    expect(small.maxInFlight).toBe(3);
  });

  it('defaults to 10: ten overlapping requests pass, the eleventh does not', async () => {
    // Held long enough that the eleventh arrives while the ten are in flight, on a loaded machine too
    // (held 300 ms, they were done before it on a CI runner busy with other work).
    mc.failNext(...Array.from({ length: 10 }, () => ({ delayMs: 3_000 })));
    const ten = Array.from({ length: 10 }, (_, i) => subscribe(`p${i}@example.com`));
    while (mc.requests.length < 10) await new Promise((resolve) => setTimeout(resolve, 5));
    asProblem(await subscribe(ADA), 429, 'Too Many Requests');
    expect((await Promise.all(ten)).map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(mc.maxInFlight).toBe(11);
    expect(mc.member('list-a', ADA)).toBeUndefined();
  });

  it('normal handling takes long enough that an uncapped burst overlaps and meets the limit', async () => {
    const small = await startMailchimpStandin({ connectionLimit: 3 });
    extra.push(small);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call('GET', memberPath(`b${i}@example.com`), undefined, { on: small })),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 404).length).toBeGreaterThanOrEqual(3);
    expect(statuses.every((s) => s === 404 || s === 429)).toBe(true);
    expect(small.maxInFlight).toBeGreaterThan(3);
  });

  it('a request the client gave up on still counts as in flight until the stand-in is done with it', async () => {
    const one = await startMailchimpStandin({ connectionLimit: 1 });
    extra.push(one);
    one.failNext({ delayMs: 300 });
    await expect(
      call('GET', memberPath(ADA), undefined, { on: one, signal: AbortSignal.timeout(50) }),
    ).rejects.toThrow();
    asProblem(await call('GET', memberPath(ADA), undefined, { on: one }), 429, 'Too Many Requests');
    await new Promise((resolve) => setTimeout(resolve, 350));
    asProblem(await call('GET', memberPath(ADA), undefined, { on: one }), 404, 'Resource Not Found');
  });
});

describe('recording', () => {
  it('records every request with method, path, authorization, parsed body, status and time', async () => {
    const before = Date.now();
    await subscribe(ADA);
    await call('GET', `${memberPath(ADA)}?fields=status`, undefined, { authorization: null });
    await call('PUT', memberPath(ADA), undefined, { raw: 'not json' });
    expect(mc.requests).toHaveLength(3);
    expect(mc.requests[0]).toEqual({
      method: 'PUT',
      path: `/3.0/lists/list-a/members/${ADA_HASH}`,
      authorization: basic(mc.apiKey),
      body: { email_address: ADA, status_if_new: 'subscribed' },
      status: 200,
      at: expect.any(Number) as number,
    });
    expect(mc.requests[0]?.at).toBeGreaterThanOrEqual(before);
    expect(mc.requests[1]).toMatchObject({
      method: 'GET',
      path: `/3.0/lists/list-a/members/${ADA_HASH}?fields=status`,
      authorization: undefined,
      body: undefined,
      status: 401,
    });
    expect(mc.requests[2]).toMatchObject({ body: 'not json', status: 400 });
  });

  it('stops listening on close()', async () => {
    const s = await startMailchimpStandin();
    await s.close();
    await expect(call('GET', memberPath(ADA), undefined, { on: s })).rejects.toThrow(TypeError);
  });
});
