import { z } from 'zod';
import { senderAddress } from './integrations/mail/compose.js';

/**
 * Every environment variable Stageflow reads, in one place: a schema, a default and a one-line
 * doc each. `configVariables` is the list the README and `stageflow config` show; nothing else
 * reads `process.env` directly, so this list is complete by construction.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A postgres:// URL, or anything else without a URL scheme, which is taken as a SQLite file path. */
const databaseUrl = z
  .string()
  .min(1)
  .refine(
    (v) => {
      if (/^postgres(ql)?:\/\//.test(v)) return URL.canParse(v);
      return !/^[a-z][a-z0-9+.-]*:\/\//i.test(v);
    },
    { message: 'expected a postgres:// URL or a SQLite file path' },
  );

const port = z.coerce
  .number({ message: 'expected a port number' })
  .int('expected a whole number')
  .min(1, 'expected a port from 1 to 65535')
  .max(65535, 'expected a port from 1 to 65535');

/** `name=audience,name=audience`: each process list name once, each part non-empty. */
const mailingLists = z.string().transform((v, ctx) => {
  const lists = new Map<string, string>();
  for (const part of v
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const [name, audience, ...rest] = part.split('=').map((p) => p.trim());
    if (!name || !audience || rest.length > 0) {
      ctx.addIssue({ code: 'custom', message: `expected list=audience, got ${JSON.stringify(part)}` });
      return z.NEVER;
    }
    if (lists.has(name)) {
      ctx.addIssue({ code: 'custom', message: `list ${JSON.stringify(name)} is mapped twice` });
      return z.NEVER;
    }
    lists.set(name, audience);
  }
  return lists as ReadonlyMap<string, string>;
});

interface Variable<S extends z.ZodType> {
  schema: S;
  default: string;
  doc: string;
}

const variable = <S extends z.ZodType>(schema: S, dflt: string, doc: string): Variable<S> => ({
  schema,
  default: dflt,
  doc,
});

const variables = {
  DATABASE_URL: variable(
    databaseUrl,
    './data/stageflow.db',
    'Where the data lives: a postgres:// URL, or a SQLite file path (created on first use).',
  ),
  PORT: variable(port, '3000', 'TCP port the HTTP server listens on.'),
  HOST: variable(
    z.string().min(1),
    '127.0.0.1',
    'Interface the HTTP server binds to; 0.0.0.0 to accept outside connections.',
  ),
  SESSION_IDLE_MINUTES: variable(
    z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    '60',
    'A browser session ends after this many minutes without a request.',
  ),
  SESSION_ABSOLUTE_HOURS: variable(
    z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 30),
    '12',
    'A browser session ends this many hours after login, however busy.',
  ),
  TRUST_PROXY: variable(
    z.enum(['true', 'false']).transform((v) => v === 'true'),
    'false',
    'true behind a reverse proxy that sets X-Forwarded-Proto/For (cookies then know they travel over https).',
  ),
  EMBEDDED_WORKER: variable(
    z.enum(['true', 'false']).transform((v) => v === 'true'),
    'true',
    'Run the scheduler inside `stageflow serve`; false when separate `stageflow worker` processes run it.',
  ),
  SMTP_URL: variable(
    z.union([z.literal(''), z.string().regex(/^smtps?:\/\//, 'expected smtp://user:pass@host:port or smtps://…')]),
    '',
    'Where mail goes (smtp:// or smtps://); unset, each message is written as an .eml file under MAIL_DIR.',
  ),
  MAIL_FROM: variable(
    z.string().refine((v) => senderAddress(v) !== null, {
      message: 'expected an address such as Sales <sales@example.com> or sales@example.com',
    }),
    'Stageflow <stageflow@localhost>',
    'Sender of the mail Stageflow sends: an address, with a display name if wanted (Sales <sales@example.com>).',
  ),
  MAIL_DIR: variable(z.string().min(1), './data/mail', 'Folder for .eml files when SMTP_URL is unset.'),
  WEBHOOK_SECRET: variable(
    z.string(),
    '',
    'Key for the HMAC-SHA256 signature of outgoing webhooks; webhooks wait in the outbox until it is set.',
  ),
  WEBHOOK_ALLOW_PRIVATE: variable(
    z.enum(['true', 'false']).transform((v) => v === 'true'),
    'false',
    'true: webhooks may also go to loopback and private addresses (a receiver on your own network).',
  ),
  MAILCHIMP_API_KEY: variable(
    z.union([
      z.literal(''),
      z.string().regex(/-[a-z]+[0-9]+$/, 'expected a Mailchimp API key, which ends in its data centre, like …-us14'),
    ]),
    '',
    'Mailchimp API key; unset, mailing-list effects wait in the outbox until it is set.',
  ),
  MAILCHIMP_LISTS: variable(
    mailingLists,
    '',
    'Process list name to Mailchimp audience id, comma-separated: trial-nurture=a1b2c3d4e5,customers=f6a7b8c9d0.',
  ),
  MAILCHIMP_BASE_URL: variable(
    z.union([z.literal(''), z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' })]),
    '',
    'Mailchimp API base URL; unset, https://<dc>.api.mailchimp.com/3.0 from the key (set it for a proxy).',
  ),
  MAILCHIMP_CONCURRENCY: variable(
    z.coerce
      .number({ message: 'expected a whole number from 1 to 10' })
      .int('expected a whole number from 1 to 10')
      .min(1, 'expected a whole number from 1 to 10')
      .max(10, 'expected a whole number from 1 to 10'),
    '3',
    'Mailchimp calls per worker at once; keep workers × this ≤ 10, the limit Mailchimp sets per account.',
  ),
  PUBLIC_URL: variable(
    z.union([
      z.literal(''),
      z
        .url({ protocol: /^https?$/, message: 'expected the http(s) URL people reach this server at' })
        .refine((v) => !/[?#]/.test(v), { message: 'expected a URL without a query or fragment' }),
    ]),
    '',
    'The URL people reach this server at (https://crm.example.com); with UNSUBSCRIBE_SECRET, marketing mail gets one-click unsubscribe links.',
  ),
  UNSUBSCRIBE_SECRET: variable(
    z.union([z.literal(''), z.string().min(32, 'expected at least 32 characters (openssl rand -base64 32)')]),
    '',
    'Key that signs unsubscribe links (32+ random characters); unset, marketing mail offers only a mailto unsubscribe.',
  ),
  UNSUBSCRIBE_PREVIOUS_SECRETS: variable(
    z
      .string()
      .transform((v) => (v === '' ? [] : v.split(',').map((s) => s.trim())))
      .refine((list) => list.every((s) => s.length >= 32), {
        message: 'expected comma-separated secrets of at least 32 characters each',
      }),
    '',
    'Former UNSUBSCRIBE_SECRET values, comma-separated: links in mail sent under them keep working after a rotation.',
  ),
  MAILCHIMP_WEBHOOK_SECRET: variable(
    z.union([z.literal(''), z.string().min(16, 'expected at least 16 characters (openssl rand -hex 16)')]),
    '',
    "Secret path part of Mailchimp's webhook URL (/integrations/mailchimp/webhook/SECRET); unset, the route answers 404.",
  ),
  ENRICH_WEBSITES: variable(
    z.enum(['true', 'false']).transform((v) => v === 'true'),
    'true',
    "Enrichment reads the public website of a contact's company domain; false keeps it to the address and DNS.",
  ),
  LOG_LEVEL: variable(
    z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }),
    'info',
    'Least severe log level written.',
  ),
};

export type ConfigName = keyof typeof variables;
export type Config = { [K in ConfigName]: z.output<(typeof variables)[K]['schema']> };

/** For docs: name, default and one-line description of every variable, in a stable order. */
export const configVariables: readonly { name: ConfigName; default: string; doc: string }[] = (
  Object.keys(variables) as ConfigName[]
).map((name) => ({ name, default: variables[name].default, doc: variables[name].doc }));

export class ConfigError extends Error {
  constructor(
    readonly variable: ConfigName,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** One variable, validated; an empty value counts as unset, as shells make that easy to do by accident. */
export function configValue<K extends ConfigName>(name: K, env: Env = process.env): Config[K] {
  const raw = env[name];
  const value = raw === undefined || raw === '' ? variables[name].default : raw;
  const parsed = variables[name].schema.safeParse(value);
  if (!parsed.success) {
    const why = parsed.error.issues[0]?.message ?? 'invalid value';
    throw new ConfigError(name, `${JSON.stringify(value)} is invalid: ${why}`);
  }
  return parsed.data as Config[K];
}

/** All variables at once: for the server, which needs every one and should fail at startup. */
export function loadConfig(env: Env = process.env): Config {
  const entries = configVariables.map(({ name }) => [name, configValue(name, env)] as const);
  return Object.fromEntries(entries) as Config;
}

/** Variables whose value is a secret: shown as set or unset, never printed. */
const SECRETS: ReadonlySet<ConfigName> = new Set([
  'WEBHOOK_SECRET',
  'MAILCHIMP_API_KEY',
  'UNSUBSCRIBE_SECRET',
  'UNSUBSCRIBE_PREVIOUS_SECRETS',
  'MAILCHIMP_WEBHOOK_SECRET',
]);

/** A value as `stageflow config` and the admin API show it: secrets hidden, URL passwords masked. */
export function displayValue(name: ConfigName, env: Env = process.env): string {
  const parsed = configValue(name, env);
  const value =
    parsed instanceof Map
      ? [...parsed].map(([list, audience]) => `${list}=${String(audience)}`).join(',')
      : String(parsed);
  if (SECRETS.has(name)) return value === '' ? '(unset)' : '(set)';
  return value.replace(/\/\/[^@/]*@/, '//***@');
}

/** The variable table for the README. */
export function configMarkdown(): string {
  const rows = configVariables.map((v) => `| \`${v.name}\` | \`${v.default}\` | ${v.doc} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
