import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Mailchimp Marketing API v3 (list members only): a real HTTP server on a
 * loopback port that answers like Mailchimp documents it, failures included. Tests point a client
 * at `baseUrl` with `apiKey` and then look at `requests`, `member()` and `maxInFlight`.
 *
 * Behaviour worth knowing (from Mailchimp's docs and the answers it is known to give):
 * - Auth is HTTP Basic, any user name, the API key as password. No Authorization header → 401
 *   "API Key Missing"; a wrong key → 401 "API Key Invalid"; the right key with another data-centre
 *   suffix → 403 "Wrong Datacenter" (all three are in Mailchimp's error glossary).
 * - `{subscriber_hash}` is the lowercase hex MD5 of the lowercased address; as documented, the
 *   member path also accepts the address itself (anything with an `@`). Contact ids are not modelled.
 * - PUT upserts. For a new (or archived) member `status_if_new` is used, else `status`; one of them
 *   is required. For an existing member `status_if_new` is ignored and `status` changes it.
 * - A member in compliance state (see `putInComplianceState`: unsubscribed by themselves, or
 *   cleaned) cannot be made `subscribed` through the API, by PUT or PATCH `status`: 400 "Member In
 *   Compliance State". `pending` (re-confirmation e-mail) is allowed, and so is a PUT with only
 *   `status_if_new`, which does not apply to an existing member. A member unsubscribed through the
 *   API itself (PATCH) is not in compliance state and may be resubscribed.
 * - After `actions/delete-permanent` the address is forgotten for that list: GET/PATCH/DELETE/tags
 *   answer 404 and every PUT 400 "Forgotten Email Not Subscribed", whatever the status asked for.
 * - DELETE archives (status `archived`, still readable by GET); a later PUT re-adds it like a new
 *   member (`status_if_new` applies), keeping any compliance state.
 * - Invalid JSON → 400 "JSON Parse Error"; a body that does not fit the schema → 400 "Invalid
 *   Resource" with an `errors` array of `{field, message}`, as Mailchimp answers.
 * - Errors are `application/problem+json` with `type`, `title`, `status`, `detail`, `instance`.
 * - Connection limit: a request arriving while `connectionLimit` others are in flight is answered
 *   at once with 429 "Too Many Requests" (it does not consume a fault). A request stays in flight
 *   until the stand-in has finished handling it, even if the client gave up earlier (Mailchimp:
 *   timed-out requests "could still be considered open"); its change is still applied then.
 *   Normal handling takes HANDLING_MS so that concurrent requests really overlap.
 * - `failNext` faults are consumed one per request (after the connection-limit check, before
 *   auth). A `drop` is recorded with status 0.
 */

export interface StandinMember {
  email_address: string;
  status: 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending' | 'transactional' | 'archived';
  merge_fields: Record<string, string>;
  tags: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
  status: number;
  at: number;
}

export type Fault = { status: number; body?: 'problem' | 'none' | 'html' } | { delayMs: number } | 'drop'; // 'drop' = destroy the socket without answering

export interface MailchimpStandin {
  apiKey: string;
  baseUrl: string;
  requests: RecordedRequest[];
  member(listId: string, email: string): StandinMember | undefined;
  isForgotten(listId: string, email: string): boolean;
  putInComplianceState(listId: string, email: string): void;
  failNext(...faults: Fault[]): void;
  maxInFlight: number;
  close(): Promise<void>;
}

/** How long normal handling takes, so that a client's concurrent requests overlap on the server. */
const HANDLING_MS = 20;

const ERROR_DOCS = 'https://mailchimp.com/developer/marketing/docs/errors/';

type Status = StandinMember['status'];
type InputStatus = Exclude<Status, 'archived'>;
const INPUT_STATUSES: readonly InputStatus[] = ['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional'];

/** Lowercase hex MD5 of the lowercased address, as Mailchimp's `subscriber_hash`. */
export function subscriberHash(email: string): string {
  return createHash('md5').update(email.toLowerCase()).digest('hex');
}

interface MemberRecord {
  email: string;
  status: Status;
  mergeFields: Record<string, string>;
  tags: Map<string, string>; // name → date added
  compliance: boolean;
  uniqueEmailId: string;
  contactId: string;
  webId: number;
  timestampOpt: string;
  lastChanged: string;
}

interface FieldError {
  field: string;
  message: string;
}

interface Answer {
  status: number;
  json?: unknown;
  contentType?: string;
  text?: string;
  headers?: Record<string, string>;
}

interface MemberFields {
  email_address?: string;
  status?: InputStatus;
  status_if_new?: InputStatus;
  merge_fields?: Record<string, string>;
}

const PROBLEM_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'API Key Invalid',
  403: 'Forbidden',
  404: 'Resource Not Found',
  405: 'Method Not Allowed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function mailchimpTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function problem(
  status: number,
  title: string,
  detail: string,
  extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
): Answer {
  const instance = randomUUID();
  return {
    status,
    contentType: 'application/problem+json; charset=utf-8',
    json: {
      type: ERROR_DOCS,
      title,
      status,
      detail,
      instance,
      ...(extra.errors ? { errors: extra.errors } : {}),
    },
    headers: { 'X-Request-Id': instance, ...extra.headers },
  };
}

const notFound = (): Answer => problem(404, 'Resource Not Found', 'The requested resource could not be found.');

function invalidResource(errors: FieldError[], detail?: string): Answer {
  return problem(
    400,
    'Invalid Resource',
    detail ?? "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
    { errors },
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'NULL';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isInputStatus(value: unknown): value is InputStatus {
  return typeof value === 'string' && (INPUT_STATUSES as readonly string[]).includes(value);
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Checks the member fields the stand-in understands; other fields are ignored, as extra JSON is. */
function parseMemberFields(body: Record<string, unknown>): { fields: MemberFields; errors: FieldError[] } {
  const fields: MemberFields = {};
  const errors: FieldError[] = [];
  if (body['email_address'] !== undefined) {
    const email = body['email_address'];
    if (typeof email !== 'string')
      errors.push({ field: 'email_address', message: `Schema describes string, ${describeType(email)} found instead` });
    else fields.email_address = email;
  }
  for (const key of ['status', 'status_if_new'] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (isInputStatus(value)) fields[key] = value;
    else errors.push({ field: key, message: 'Data presented is not one of the accepted values.' });
  }
  if (body['merge_fields'] !== undefined) {
    const merge = body['merge_fields'];
    if (!isRecord(merge))
      errors.push({ field: 'merge_fields', message: `Schema describes object, ${describeType(merge)} found instead` });
    else {
      const out: Record<string, string> = {};
      for (const [tag, value] of Object.entries(merge)) {
        if (typeof value === 'string') out[tag] = value;
        else
          errors.push({
            field: `merge_fields.${tag}`,
            message: 'Data did not match any of the schemas described in anyOf.',
          });
      }
      fields.merge_fields = out;
    }
  }
  return { fields, errors };
}

type Route =
  | { kind: 'list'; list: string; hash: '' }
  | { kind: 'member'; list: string; hash: string }
  | { kind: 'tags'; list: string; hash: string }
  | { kind: 'action'; list: string; hash: string; action: string };

function hashFromPath(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return segment;
  }
  return decoded.includes('@') ? subscriberHash(decoded) : decoded;
}

function route(pathname: string): Route | undefined {
  const l = /^\/3\.0\/lists\/([^/]+)\/?$/.exec(pathname);
  if (l) return { kind: 'list', list: decodeURIComponent(l[1] ?? ''), hash: '' };
  const m = /^\/3\.0\/lists\/([^/]+)\/members\/([^/]+)(?:\/(tags|actions\/([^/]+)))?\/?$/.exec(pathname);
  if (!m) return undefined;
  const list = decodeURIComponent(m[1] ?? '');
  const hash = hashFromPath(m[2] ?? '');
  if (m[3] === 'tags') return { kind: 'tags', list, hash };
  if (m[4] !== undefined) return { kind: 'action', list, hash, action: decodeURIComponent(m[4]) };
  return { kind: 'member', list, hash };
}

const ALLOWED: Record<Route['kind'], string[]> = {
  list: ['GET'],
  member: ['GET', 'PUT', 'PATCH', 'DELETE'],
  tags: ['GET', 'POST'],
  action: ['POST'],
};

export async function startMailchimpStandin(
  opts: { lists?: string[]; apiKey?: string; connectionLimit?: number } = {},
): Promise<MailchimpStandin> {
  const apiKey = opts.apiKey ?? `${randomBytes(16).toString('hex')}-us14`;
  const connectionLimit = opts.connectionLimit ?? 10;
  const dash = apiKey.lastIndexOf('-');
  const keyPart = dash > 0 ? apiKey.slice(0, dash) : undefined;

  const members = new Map<string, Map<string, MemberRecord>>();
  const forgotten = new Map<string, Set<string>>();
  for (const list of opts.lists ?? ['list-a', 'list-b']) {
    members.set(list, new Map());
    forgotten.set(list, new Set());
  }
  const tagIds = new Map<string, number>(); // `${list}\u0000${name}` → id
  let nextTagId = 1001;
  let nextWebId = 100_000_001;

  const faults: Fault[] = [];
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let closed = false;
  const sleepers = new Set<() => void>();

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  }

  function tagId(list: string, name: string): number {
    const key = `${list}\u0000${name}`;
    let id = tagIds.get(key);
    if (id === undefined) {
      id = nextTagId++;
      tagIds.set(key, id);
    }
    return id;
  }

  function memberJson(list: string, hash: string, m: MemberRecord): unknown {
    const fullName = [m.mergeFields['FNAME'], m.mergeFields['LNAME']].filter((s) => s).join(' ');
    return {
      id: hash,
      email_address: m.email,
      unique_email_id: m.uniqueEmailId,
      contact_id: m.contactId,
      full_name: fullName,
      web_id: m.webId,
      email_type: 'html',
      status: m.status,
      consents_to_one_to_one_messaging: true,
      merge_fields: { ...m.mergeFields },
      interests: {},
      stats: { avg_open_rate: 0, avg_click_rate: 0 },
      ip_signup: '',
      timestamp_signup: '',
      ip_opt: '',
      timestamp_opt: m.timestampOpt,
      member_rating: 2,
      last_changed: m.lastChanged,
      language: '',
      vip: false,
      email_client: '',
      location: { latitude: 0, longitude: 0, gmtoff: 0, dstoff: 0, country_code: '', timezone: '', region: '' },
      source: 'API - Generic',
      tags_count: m.tags.size,
      tags: [...m.tags.keys()].map((name) => ({ id: tagId(list, name), name })),
      list_id: list,
      _links: [],
    };
  }

  function setStatus(m: MemberRecord, status: Status): void {
    if (status === 'subscribed' && m.status !== 'subscribed') m.timestampOpt = mailchimpTime(Date.now());
    m.status = status;
  }

  const compliance = (email: string): Answer =>
    problem(
      400,
      'Member In Compliance State',
      `${email} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`,
    );

  function handlePut(list: string, hash: string, body: Record<string, unknown>): Answer {
    const { fields, errors } = parseMemberFields(body);
    if (errors.length > 0) return invalidResource(errors);
    if (fields.email_address !== undefined) {
      if (!EMAIL_RE.test(fields.email_address))
        return invalidResource(
          [{ field: 'email_address', message: 'Please provide a valid email address.' }],
          'Please provide a valid email address.',
        );
      if (subscriberHash(fields.email_address) !== hash)
        return invalidResource([
          {
            field: 'email_address',
            message: 'The subscriber hash in the URL is not the MD5 of the lowercased email_address.',
          },
        ]);
    }
    const listMembers = members.get(list);
    if (!listMembers) return notFound();
    const existing = listMembers.get(hash);
    const now = mailchimpTime(Date.now());

    if (existing === undefined || existing.status === 'archived') {
      const email = existing?.email ?? fields.email_address;
      if (email === undefined)
        return invalidResource([
          { field: 'email_address', message: 'This value should not be blank (the member is not on the list).' },
        ]);
      if (forgotten.get(list)?.has(hash))
        return problem(
          400,
          'Forgotten Email Not Subscribed',
          `${email} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.`,
        );
      const status = fields.status_if_new ?? fields.status;
      if (status === undefined)
        return invalidResource([
          { field: 'status_if_new', message: 'This value should not be blank (required for a new member).' },
        ]);
      if (status === 'subscribed' && existing?.compliance) return compliance(email);
      const record: MemberRecord = existing ?? {
        email,
        status,
        mergeFields: {},
        tags: new Map(),
        compliance: false,
        uniqueEmailId: randomBytes(5).toString('hex'),
        contactId: randomBytes(16).toString('hex'),
        webId: nextWebId++,
        timestampOpt: '',
        lastChanged: now,
      };
      setStatus(record, status);
      Object.assign(record.mergeFields, fields.merge_fields);
      record.lastChanged = now;
      listMembers.set(hash, record);
      return { status: 200, json: memberJson(list, hash, record) };
    }

    if (fields.status === 'subscribed' && existing.compliance) return compliance(existing.email);
    if (fields.status !== undefined) setStatus(existing, fields.status);
    Object.assign(existing.mergeFields, fields.merge_fields);
    existing.lastChanged = now;
    return { status: 200, json: memberJson(list, hash, existing) };
  }

  function handlePatch(list: string, hash: string, body: Record<string, unknown>): Answer {
    const existing = members.get(list)?.get(hash);
    if (!existing) return notFound();
    const { fields, errors } = parseMemberFields(body);
    if (errors.length > 0) return invalidResource(errors);
    if (fields.email_address !== undefined && subscriberHash(fields.email_address) !== hash)
      return invalidResource([
        { field: 'email_address', message: 'Changing a member’s address is not supported by the stand-in.' },
      ]);
    if (fields.status === 'subscribed' && existing.compliance) return compliance(existing.email);
    if (fields.status !== undefined) setStatus(existing, fields.status);
    Object.assign(existing.mergeFields, fields.merge_fields);
    existing.lastChanged = mailchimpTime(Date.now());
    return { status: 200, json: memberJson(list, hash, existing) };
  }

  function handleTags(list: string, hash: string, body: Record<string, unknown>): Answer {
    const existing = members.get(list)?.get(hash);
    if (!existing) return notFound();
    const tags = body['tags'];
    if (!Array.isArray(tags))
      return invalidResource([
        { field: 'tags', message: `Schema describes array, ${describeType(tags)} found instead` },
      ]);
    const errors: FieldError[] = [];
    const changes: { name: string; active: boolean }[] = [];
    tags.forEach((tag: unknown, i) => {
      if (!isRecord(tag)) {
        errors.push({
          field: `tags.item:${i}`,
          message: `Schema describes object, ${describeType(tag)} found instead`,
        });
        return;
      }
      const name = tag['name'];
      const status = tag['status'];
      if (typeof name !== 'string' || name.trim() === '')
        errors.push({ field: `tags.item:${i}.name`, message: 'This value should not be blank.' });
      if (status !== 'active' && status !== 'inactive')
        errors.push({ field: `tags.item:${i}.status`, message: 'Data presented is not one of the accepted values.' });
      if (typeof name === 'string' && (status === 'active' || status === 'inactive'))
        changes.push({ name, active: status === 'active' });
    });
    if (errors.length > 0) return invalidResource(errors);
    const now = mailchimpTime(Date.now());
    for (const { name, active } of changes) {
      if (active) {
        if (!existing.tags.has(name)) existing.tags.set(name, now);
      } else existing.tags.delete(name);
    }
    return { status: 204 };
  }

  function handle(method: string, pathname: string, rawBody: string): Answer {
    const r = route(pathname);
    if (!r) return notFound();
    const allowed = ALLOWED[r.kind];
    if (!allowed.includes(method))
      return problem(
        405,
        'Method Not Allowed',
        "The requested method and resource are not compatible. See the Allow header for this resource's available methods.",
        { headers: { Allow: allowed.join(', ') } },
      );
    if (r.kind === 'action' && r.action !== 'delete-permanent')
      return problem(400, 'Invalid Action', 'The action requested was not valid for this resource.');
    const listMembers = members.get(r.list);
    if (!listMembers) return notFound();
    // GET /lists/{list_id}: the audience, here just its id, name and member count.
    if (r.kind === 'list')
      return { status: 200, json: { id: r.list, name: r.list, stats: { member_count: listMembers.size } } };

    let body: Record<string, unknown> = {};
    if (rawBody.trim() !== '' && method !== 'GET' && method !== 'DELETE') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody);
      } catch {
        return problem(400, 'JSON Parse Error', 'We encountered an unspecified JSON parsing error.');
      }
      if (!isRecord(parsed))
        return invalidResource([
          { field: '', message: `Schema describes object, ${describeType(parsed)} found instead` },
        ]);
      body = parsed;
    }

    const existing = listMembers.get(r.hash);
    switch (r.kind) {
      case 'action': {
        if (!existing) return notFound();
        listMembers.delete(r.hash);
        forgotten.get(r.list)?.add(r.hash);
        return { status: 204 };
      }
      case 'tags': {
        if (method === 'POST') return handleTags(r.list, r.hash, body);
        if (!existing) return notFound();
        const tags = [...existing.tags].map(([name, date]) => ({
          id: tagId(r.list, name),
          name,
          date_added: date,
        }));
        return { status: 200, json: { tags, total_items: tags.length, _links: [] } };
      }
      case 'member': {
        if (method === 'PUT') return handlePut(r.list, r.hash, body);
        if (method === 'PATCH') return handlePatch(r.list, r.hash, body);
        if (!existing) return notFound();
        if (method === 'GET') return { status: 200, json: memberJson(r.list, r.hash, existing) };
        existing.status = 'archived';
        existing.lastChanged = mailchimpTime(Date.now());
        return { status: 204 };
      }
    }
  }

  function authorize(header: string | undefined): Answer | undefined {
    if (header === undefined || header.trim() === '')
      return problem(401, 'API Key Missing', 'Your request did not include an API key.');
    const m = /^Basic\s+(\S+)$/i.exec(header.trim());
    const decoded = m?.[1] === undefined ? '' : Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon >= 0 ? decoded.slice(colon + 1) : undefined;
    if (password === apiKey) return undefined;
    if (password !== undefined && keyPart !== undefined && password.startsWith(`${keyPart}-`))
      return problem(403, 'Wrong Datacenter', 'The API key provided is linked to a different data center.');
    return problem(
      401,
      'API Key Invalid',
      "Your API key may be invalid, or you've attempted to access the wrong data center.",
    );
  }

  function faultAnswer(fault: { status: number; body?: 'problem' | 'none' | 'html' }): Answer {
    const reason = STATUS_CODES[fault.status] ?? 'Error';
    switch (fault.body ?? 'problem') {
      case 'none':
        return { status: fault.status, text: '' };
      case 'html':
        return {
          status: fault.status,
          contentType: 'text/html; charset=utf-8',
          text: `<html><head><title>${fault.status} ${reason}</title></head><body><center><h1>${fault.status} ${reason}</h1></center><hr><center>nginx</center></body></html>\n`,
        };
      case 'problem': {
        const title = PROBLEM_TITLES[fault.status] ?? reason;
        const detail =
          fault.status === 429
            ? `You have exceeded the limit of ${connectionLimit} simultaneous connections.`
            : `Injected failure: ${fault.status} ${reason}.`;
        return problem(fault.status, title, detail);
      }
    }
  }

  function send(res: ServerResponse, record: RecordedRequest, answer: Answer): void {
    record.status = answer.status;
    if (res.destroyed || res.writableEnded) return; // the client gave up; the change still happened
    const headers: Record<string, string> = { ...answer.headers };
    let payload = '';
    if (answer.json !== undefined) {
      payload = JSON.stringify(answer.json);
      headers['Content-Type'] = answer.contentType ?? 'application/json; charset=utf-8';
    } else if (answer.text !== undefined) {
      payload = answer.text;
      if (answer.contentType) headers['Content-Type'] = answer.contentType;
    }
    if (answer.status !== 204) headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(answer.status, headers);
    res.end(answer.status === 204 ? undefined : payload);
  }

  function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      body: undefined,
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    inFlight++;
    standin.maxInFlight = Math.max(standin.maxInFlight, inFlight);
    const overLimit = inFlight > connectionLimit;
    try {
      const raw = await readBody(req);
      if (raw !== '') {
        try {
          record.body = JSON.parse(raw);
        } catch {
          record.body = raw;
        }
      }
      if (overLimit) {
        send(
          res,
          record,
          problem(
            429,
            'Too Many Requests',
            `You have exceeded the limit of ${connectionLimit} simultaneous connections.`,
          ),
        );
        return;
      }
      const fault = faults.shift();
      if (fault === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault !== undefined && 'status' in fault) {
        send(res, record, faultAnswer(fault));
        return;
      }
      await sleep(fault?.delayMs ?? HANDLING_MS);
      if (closed) return;
      const pathname = new URL(req.url ?? '/', 'http://standin').pathname;
      send(res, record, authorize(req.headers.authorization) ?? handle(record.method.toUpperCase(), pathname, raw));
    } finally {
      inFlight--;
    }
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;

  function listOf(listId: string): Map<string, MemberRecord> {
    const list = members.get(listId);
    if (!list) throw new Error(`mailchimp stand-in: no list ${listId}`);
    return list;
  }

  const standin: MailchimpStandin = {
    apiKey,
    baseUrl: `http://127.0.0.1:${port}/3.0`,
    requests,
    maxInFlight: 0,
    member(listId, email) {
      const m = members.get(listId)?.get(subscriberHash(email));
      if (!m) return undefined;
      return { email_address: m.email, status: m.status, merge_fields: { ...m.mergeFields }, tags: [...m.tags.keys()] };
    },
    isForgotten(listId, email) {
      return forgotten.get(listId)?.has(subscriberHash(email)) ?? false;
    },
    putInComplianceState(listId, email) {
      const list = listOf(listId);
      const hash = subscriberHash(email);
      if (forgotten.get(listId)?.has(hash)) throw new Error(`mailchimp stand-in: ${email} was permanently deleted`);
      const now = mailchimpTime(Date.now());
      const existing = list.get(hash);
      if (existing) {
        if (existing.status !== 'cleaned') existing.status = 'unsubscribed';
        existing.compliance = true;
        existing.lastChanged = now;
        return;
      }
      list.set(hash, {
        email,
        status: 'unsubscribed',
        mergeFields: {},
        tags: new Map(),
        compliance: true,
        uniqueEmailId: randomBytes(5).toString('hex'),
        contactId: randomBytes(16).toString('hex'),
        webId: nextWebId++,
        timestampOpt: '',
        lastChanged: now,
      });
    },
    failNext(...more) {
      faults.push(...more);
    },
    async close() {
      closed = true;
      for (const wake of [...sleepers]) wake();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standin;
}
