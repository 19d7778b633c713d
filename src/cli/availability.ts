import { Option, type Command } from 'commander';
import {
  AVAILABILITY_API_NAME,
  availabilityChangeOf,
  availabilityChangeSchema,
  type AvailabilityChangeBody,
} from '../domain/availability-change.js';
import { AVAILABILITY_FIELDS, type AvailabilityField } from '../domain/availability.js';
import { AvailabilityRefused, setAvailability } from '../engine/availability-service.js';
import { storedOverrides, type StoredOverride } from '../store/availability.js';
import { latestProcess } from '../store/processes.js';
import { contextOf, displayZone, withStore } from './context.js';
import { CliError, UsageError } from './errors.js';
import { formatTime, iso, print, printJson, table } from './output.js';
import { collect } from './parse.js';

/**
 * `stageflow user availability USER`: a person's availability overrides, as
 * PUT /users/{id}/availability sets them. The options become that route's body, checked by its own
 * schema, and the change goes through the same service (engine/availability-service.ts), so the
 * command and the API accept, refuse, store and audit alike. Without options it shows them.
 */

interface AvailabilityOptions {
  active?: 'true' | 'false';
  outOfOffice: string[];
  capacity?: string;
  workingHours?: string;
  clear: string[];
}

/** Each field's option, as errors name them. */
const OPTION: Record<AvailabilityField, string> = {
  active: '--active',
  out_of_office: '--out-of-office',
  capacity: '--capacity',
  working_hours: '--working-hours',
};
const CLEARABLE = AVAILABILITY_FIELDS.map((f) => OPTION[f].slice(2));
const CAPS = ['per_day', 'per_week', 'max_open'];

/** `FROM..TO` (inclusive dates), or one date for a single day. */
function period(text: string): { from: string; to: string } {
  const [from, to, ...rest] = text.split('..');
  if (rest.length > 0 || from === undefined || from === '' || to === '')
    throw new UsageError(`--out-of-office ${text}: give FROM..TO (dates, e.g. 2026-03-02..2026-03-06) or one date`);
  return { from, to: to ?? from };
}

/** `per_day=3,max_open=40`, or `none` for no caps at all (over the file's). */
function capacity(text: string): Record<string, number> {
  if (text === 'none') return {};
  const caps: Record<string, number> = {};
  for (const pair of text.split(',')) {
    const [key = '', value = ''] = pair.split('=');
    if (!CAPS.includes(key))
      throw new UsageError(
        `--capacity ${text}: "${key}" is not a cap; use ${CAPS.join(', ')}, e.g. per_day=3,max_open=40`,
      );
    if (!/^\d+$/.test(value.trim())) throw new UsageError(`--capacity ${text}: ${key} must be a whole number`);
    caps[key] = Number(value);
  }
  return caps;
}

/** `1-5 09:00-17:00` or `1,3,5 08:00-12:00`: ISO weekdays (1 is Monday), then start and end. */
function workingHours(text: string): { days: number[]; start: string; end: string } {
  const m = /^\s*([\d,\s-]+?)\s+(\S+)-(\S+)\s*$/.exec(text);
  if (!m?.[1] || !m[2] || !m[3])
    throw new UsageError(`--working-hours ${text}: give DAYS START-END, e.g. "1-5 09:00-17:00" (1 is Monday)`);
  const days: number[] = [];
  for (const part of m[1].split(',').map((p) => p.trim())) {
    const range = /^(\d)(?:-(\d))?$/.exec(part);
    if (!range?.[1]) throw new UsageError(`--working-hours ${text}: "${part}" is not a weekday 1-7 or a range 1-5`);
    const first = Number(range[1]);
    const last = Number(range[2] ?? range[1]);
    for (let d = first; d <= last; d++) if (!days.includes(d)) days.push(d);
  }
  return { days, start: m[2], end: m[3] };
}

/** The options as the API's body, or null when none asks for a change. */
function bodyOf(opts: AvailabilityOptions): AvailabilityChangeBody | null {
  const body: Record<string, unknown> = {};
  if (opts.active !== undefined) body['active'] = opts.active === 'true';
  if (opts.outOfOffice.length > 0)
    body['outOfOffice'] = opts.outOfOffice.includes('none')
      ? opts.outOfOffice.length === 1
        ? []
        : usage('--out-of-office none means no leave at all: give it alone')
      : opts.outOfOffice.map(period);
  if (opts.capacity !== undefined) body['capacity'] = capacity(opts.capacity);
  if (opts.workingHours !== undefined) body['workingHours'] = workingHours(opts.workingHours);
  for (const name of opts.clear) {
    const field = AVAILABILITY_FIELDS.find((f) => OPTION[f] === `--${name}` || AVAILABILITY_API_NAME[f] === name);
    if (field === undefined) usage(`--clear ${name}: clear one of ${CLEARABLE.join(', ')}`);
    const key = AVAILABILITY_API_NAME[field];
    if (body[key] !== undefined) usage(`--clear ${name} and ${OPTION[field]}: set the field or clear it, not both`);
    body[key] = null;
  }
  if (Object.keys(body).length === 0) return null;
  // The API's own schema: what it refuses, the command refuses, naming the option.
  const parsed = availabilityChangeSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const [key, ...rest] = issue.path;
    const field = AVAILABILITY_FIELDS.find((f) => AVAILABILITY_API_NAME[f] === key);
    const option = field ? OPTION[field] : '(options)';
    const which = field === 'out_of_office' && typeof rest[0] === 'number' ? ` ${opts.outOfOffice[rest[0]] ?? ''}` : '';
    const part = rest.filter((p) => typeof p === 'string').join('.');
    return `${option}${which}: ${part ? `${part} ` : ''}${issue.message}`;
  });
  throw new UsageError(problems.join('; '));
}

function usage(message: string): never {
  throw new UsageError(`user availability: ${message}`);
}

/** As `process show --json` lists each override: the file's field names, who set them and when. */
function overrideJson(user: string, stored: StoredOverride | null) {
  return { user, ...stored?.override, setBy: stored?.changedBy ?? null, setAt: iso(stored?.changedAt ?? null) };
}

function overrideLines(user: string, stored: StoredOverride | null, zone: string): string[] {
  if (stored === null) return [`${user} has no availability overrides: the process file's values apply`];
  const o = stored.override;
  const rows: string[][] = [];
  if (o.active !== undefined) rows.push(['active', String(o.active)]);
  if (o.out_of_office !== undefined)
    rows.push([
      'out of office',
      o.out_of_office.length === 0 ? 'none' : o.out_of_office.map((p) => `${p.from}..${p.to}`).join(', '),
    ]);
  if (o.capacity !== undefined)
    rows.push([
      'capacity',
      Object.entries(o.capacity)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',') || 'none',
    ]);
  if (o.working_hours !== undefined)
    rows.push(['working hours', `${o.working_hours.days.join(',')} ${o.working_hours.start}-${o.working_hours.end}`]);
  const by = `set by ${stored.changedBy ?? 'unknown'} at ${formatTime(stored.changedAt, zone)}`;
  return [`availability overrides of ${user} (${by}), over the process file:`, ...table(rows, '  ')];
}

export function availabilityCommand(user: Command): void {
  user
    .command('availability')
    .description(
      "a person's availability over the process file (as PUT /users/{id}/availability sets it): active, leave, capacity, working hours; without options, shows it",
    )
    .argument('<user>', 'user id in the process')
    .addOption(new Option('--active <bool>', 'takes new leads and team tasks, or not').choices(['true', 'false']))
    .option(
      '--out-of-office <from..to>',
      'a period away, dates inclusive (one date: that day); repeat for several; replaces all leave set before; "none": no leave',
      collect,
      [],
    )
    .option(
      '--capacity <caps>',
      'per_day=N,per_week=N,max_open=N (any of them), or "none"; replaces the caps set before',
    )
    .option('--working-hours <hours>', 'DAYS START-END in their zone, e.g. "1-5 09:00-17:00" (1 is Monday)')
    .option(
      '--clear <field>',
      `drop an override, so the file's value applies again: ${CLEARABLE.join(', ')} (repeatable)`,
      collect,
      [],
    )
    .action(async (id: string, opts: AvailabilityOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = bodyOf(opts);
      await withStore(ctx, async (store) => {
        const zone = await displayZone(store);
        let stored: StoredOverride | null;
        if (body === null) {
          if (!(await latestProcess(store.db))?.process.users.some((u) => u.id === id))
            throw new CliError(`user "${id}" is not in the process`);
          stored = (await storedOverrides(store.db)).find((s) => s.user === id) ?? null;
        } else {
          stored = await setAvailability(store, {
            user: id,
            change: availabilityChangeOf(body),
            by: ctx.actor.id ?? 'cli',
            now: ctx.now,
          }).catch((e: unknown) => {
            if (!(e instanceof AvailabilityRefused)) throw e;
            // The process's checks may find several problems: the first on the error line, the rest under it.
            const [first, ...more] = e.message.split('\n');
            throw new CliError(`user availability: ${first ?? ''}. Nothing was changed.`, 1, more);
          });
        }
        if (ctx.json) return printJson(overrideJson(id, stored));
        for (const line of overrideLines(id, stored, zone)) print(line);
      });
    });
}
