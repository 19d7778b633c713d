import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configMarkdown,
  configValue,
  configVariables,
  displayValue,
  loadConfig,
} from '../../src/config.js';

describe('config', () => {
  it('has a default and a doc for every variable', () => {
    expect(configVariables.map((v) => v.name)).toEqual([
      'DATABASE_URL',
      'PORT',
      'HOST',
      'SESSION_IDLE_MINUTES',
      'SESSION_ABSOLUTE_HOURS',
      'TRUST_PROXY',
      'EMBEDDED_WORKER',
      'SMTP_URL',
      'MAIL_FROM',
      'MAIL_DIR',
      'WEBHOOK_SECRET',
      'WEBHOOK_ALLOW_PRIVATE',
      'MAILCHIMP_API_KEY',
      'MAILCHIMP_LISTS',
      'MAILCHIMP_BASE_URL',
      'MAILCHIMP_CONCURRENCY',
      'PUBLIC_URL',
      'UNSUBSCRIBE_SECRET',
      'UNSUBSCRIBE_PREVIOUS_SECRETS',
      'MAILCHIMP_WEBHOOK_SECRET',
      'ENRICH_WEBSITES',
      'LOG_LEVEL',
    ]);
    for (const v of configVariables) expect(v.doc.length).toBeGreaterThan(10);
    expect(loadConfig({})).toEqual({
      DATABASE_URL: './data/stageflow.db',
      PORT: 3000,
      HOST: '127.0.0.1',
      SESSION_IDLE_MINUTES: 60,
      SESSION_ABSOLUTE_HOURS: 12,
      TRUST_PROXY: false,
      EMBEDDED_WORKER: true,
      SMTP_URL: '',
      MAIL_FROM: 'Stageflow <stageflow@localhost>',
      MAIL_DIR: './data/mail',
      WEBHOOK_SECRET: '',
      WEBHOOK_ALLOW_PRIVATE: false,
      MAILCHIMP_API_KEY: '',
      MAILCHIMP_LISTS: new Map(),
      MAILCHIMP_BASE_URL: '',
      MAILCHIMP_CONCURRENCY: 3,
      PUBLIC_URL: '',
      UNSUBSCRIBE_SECRET: '',
      UNSUBSCRIBE_PREVIOUS_SECRETS: [],
      MAILCHIMP_WEBHOOK_SECRET: '',
      ENRICH_WEBSITES: true,
      LOG_LEVEL: 'info',
    });
    expect(configMarkdown()).toContain('| `PORT` | `3000` |');
  });

  it('maps process list names to Mailchimp audiences, and says what is wrong with a bad mapping', () => {
    expect(configValue('MAILCHIMP_LISTS', { MAILCHIMP_LISTS: ' trial-nurture = a1b2c3 ,customers=f6e5d4' })).toEqual(
      new Map([
        ['trial-nurture', 'a1b2c3'],
        ['customers', 'f6e5d4'],
      ]),
    );
    expect(() => configValue('MAILCHIMP_LISTS', { MAILCHIMP_LISTS: 'trial-nurture' })).toThrow(
      'MAILCHIMP_LISTS: "trial-nurture" is invalid: expected list=audience, got "trial-nurture"',
    );
    expect(() => configValue('MAILCHIMP_LISTS', { MAILCHIMP_LISTS: 'a=1,a=2' })).toThrow('list "a" is mapped twice');
    expect(() => configValue('MAILCHIMP_API_KEY', { MAILCHIMP_API_KEY: 'abc' })).toThrow(/data centre/);
    expect(displayValue('MAILCHIMP_API_KEY', { MAILCHIMP_API_KEY: 'abc123-us14' })).toBe('(set)');
    expect(displayValue('MAILCHIMP_LISTS', { MAILCHIMP_LISTS: 'a=1, b=2' })).toBe('a=1,b=2');
  });

  it('parses values and treats an empty one as unset', () => {
    expect(configValue('PORT', { PORT: '8080' })).toBe(8080);
    expect(configValue('PORT', { PORT: '' })).toBe(3000);
    expect(configValue('DATABASE_URL', { DATABASE_URL: 'postgres://u:p@db:5432/crm' })).toBe(
      'postgres://u:p@db:5432/crm',
    );
    expect(configValue('DATABASE_URL', { DATABASE_URL: '/var/lib/stageflow.db' })).toBe('/var/lib/stageflow.db');
    expect(configValue('MAIL_FROM', { MAIL_FROM: 'Sales <sales@example.com>' })).toBe('Sales <sales@example.com>');
    expect(configValue('MAIL_FROM', { MAIL_FROM: 'sales@example.com' })).toBe('sales@example.com');
  });

  it.each([
    ['PORT', 'http', 'PORT: "http" is invalid: expected a port number'],
    ['PORT', '70000', 'PORT: "70000" is invalid: expected a port from 1 to 65535'],
    ['MAILCHIMP_CONCURRENCY', '12', 'MAILCHIMP_CONCURRENCY: "12" is invalid: expected a whole number from 1 to 10'],
    [
      'LOG_LEVEL',
      'loud',
      'LOG_LEVEL: "loud" is invalid: expected one of fatal, error, warn, info, debug, trace, silent',
    ],
    [
      'DATABASE_URL',
      'mysql://x/y',
      'DATABASE_URL: "mysql://x/y" is invalid: expected a postgres:// URL or a SQLite file path',
    ],
    // A display name alone: mail would leave with no From header and marketing without List-Unsubscribe.
    [
      'MAIL_FROM',
      'Sales Team',
      'MAIL_FROM: "Sales Team" is invalid: expected an address such as Sales <sales@example.com> or sales@example.com',
    ],
    [
      'MAIL_FROM',
      'Sales <team>',
      'MAIL_FROM: "Sales <team>" is invalid: expected an address such as Sales <sales@example.com> or sales@example.com',
    ],
  ] as const)('rejects %s=%s in one line naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new ConfigError(name, message.slice(name.length + 2)));
    expect(() => configValue(name, { [name]: value })).toThrow(message);
  });
});
