import { describe, expect, it } from 'vitest';
import { ConfigError, configMarkdown, configValue, configVariables, loadConfig } from '../../src/config.js';

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
      LOG_LEVEL: 'info',
    });
    expect(configMarkdown()).toContain('| `PORT` | `3000` |');
  });

  it('parses values and treats an empty one as unset', () => {
    expect(configValue('PORT', { PORT: '8080' })).toBe(8080);
    expect(configValue('PORT', { PORT: '' })).toBe(3000);
    expect(configValue('DATABASE_URL', { DATABASE_URL: 'postgres://u:p@db:5432/crm' })).toBe(
      'postgres://u:p@db:5432/crm',
    );
    expect(configValue('DATABASE_URL', { DATABASE_URL: '/var/lib/stageflow.db' })).toBe('/var/lib/stageflow.db');
  });

  it.each([
    ['PORT', 'http', 'PORT: "http" is invalid: expected a port number'],
    ['PORT', '70000', 'PORT: "70000" is invalid: expected a port from 1 to 65535'],
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
  ] as const)('rejects %s=%s in one line naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new ConfigError(name, message.slice(name.length + 2)));
    expect(() => configValue(name, { [name]: value })).toThrow(message);
  });
});
