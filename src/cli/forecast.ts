import type { Command } from 'commander';
import { isPeriodKey } from '../domain/quotas.js';
import { SnapshotError, snapshotFiguresJson, takeForecastSnapshot } from '../reports/forecast-snapshot.js';
import { periodKey } from '../reports/period.js';
import type { ReportLayout } from '../reports/run-report.js';
import type { Store } from '../store/db.js';
import { listSnapshots, type SnapshotFigures, type SnapshotRow } from '../store/forecast-snapshots.js';
import { latestProcess } from '../store/processes.js';
import { contextOf, displayZone, withStore } from './context.js';
import { CliError, UsageError } from './errors.js';
import { formatTime, print, printJson } from './output.js';
import { figureTable } from './report.js';

/** `stageflow forecast snapshot|list`: record the forecast of a period now, and read the records back. */

interface PeriodOption {
  period?: string;
}

function checkedKey(raw: string | undefined): string | undefined {
  if (raw !== undefined && !isPeriodKey(raw))
    throw new UsageError(`--period must be a month (2026-11) or a quarter (2026-Q4), not "${raw}"`);
  return raw;
}

const MONEY = [
  'won',
  'weighted',
  'forecast',
  'past_close_value',
  'weighted_commit',
  'weighted_best_case',
  'weighted_pipeline',
];
const COUNTS = ['open_leads', 'without_close_date', 'past_close_date'];

/** How a snapshot prints: as `report forecast` does, reps by name, the total first as `(total)`. */
async function snapshotLayout(store: Store): Promise<{ layout: ReportLayout; names: Map<string, string> }> {
  const process = (await latestProcess(store.db))?.process;
  return {
    layout: {
      columns: [
        'owner',
        'won',
        'weighted',
        'forecast',
        'open_leads',
        'without_close_date',
        'past_close_date',
        'past_close_value',
        'weighted_commit',
        'weighted_best_case',
        'weighted_pipeline',
      ],
      units: Object.fromEntries([
        ...MONEY.map((c) => [c, 'money' as const]),
        ...COUNTS.map((c) => [c, 'count' as const]),
      ]),
      nullLabels: { owner: '(total)' },
      zone: process?.organisation.timezone ?? 'UTC',
      currency: process?.organisation.currency ?? 'EUR',
    },
    names: new Map((process?.users ?? []).map((u) => [u.id, u.name])),
  };
}

function snapshotTable(rows: readonly SnapshotFigures[], how: { layout: ReportLayout; names: Map<string, string> }) {
  const records = rows.map((r) => {
    const f = snapshotFiguresJson(r);
    return { ...f, owner: r.owner === '' ? null : (how.names.get(r.owner) ?? r.owner) };
  });
  return figureTable(records, how.layout);
}

/** Rows of several snapshots, one JSON object per snapshot with its total and its reps. */
function grouped(rows: readonly SnapshotRow[]): { head: SnapshotRow; rows: SnapshotRow[] }[] {
  const out = new Map<string, { head: SnapshotRow; rows: SnapshotRow[] }>();
  for (const r of rows) {
    const g = out.get(r.snapshotId);
    if (g) g.rows.push(r);
    else out.set(r.snapshotId, { head: r, rows: [r] });
  }
  return [...out.values()];
}

export function forecastCommands(program: Command): void {
  const forecast = program.command('forecast').description('forecast snapshots (see also `report forecast`)');
  forecast
    .command('snapshot')
    .description('record the forecast of a period as of now, in total and per rep (immutable)')
    .option('--period <key>', 'a month 2026-11 or a quarter 2026-Q4 (default: the current month)')
    .action(async (opts: PeriodOption, cmd: Command) => {
      const ctx = contextOf(cmd);
      const wanted = checkedKey(opts.period);
      await withStore(ctx, async (store) => {
        const zone = await displayZone(store);
        const key = wanted ?? periodKey(ctx.now, 'month', zone);
        let result;
        try {
          result = await takeForecastSnapshot(store, key, 'on_demand', ctx.now);
        } catch (e) {
          if (e instanceof SnapshotError) throw new CliError(e.message);
          throw e;
        }
        const { header, rows } = result;
        if (ctx.json)
          return printJson({
            snapshot_id: header.snapshotId,
            period: header.period,
            kind: header.kind,
            taken_at: new Date(header.takenAt).toISOString(),
            rows: rows.map(snapshotFiguresJson),
          });
        const how = await snapshotLayout(store);
        print(`snapshot ${header.snapshotId} of ${header.period} taken at ${formatTime(header.takenAt, zone)}`);
        print(`(money in ${how.layout.currency})`);
        for (const line of snapshotTable(rows, how)) print(line);
      });
    });
  forecast
    .command('list')
    .description('recorded forecast snapshots, oldest first')
    .option('--period <key>', 'only this period')
    .action(async (opts: PeriodOption, cmd: Command) => {
      const ctx = contextOf(cmd);
      const key = checkedKey(opts.period);
      await withStore(ctx, async (store) => {
        const snapshots = grouped(await listSnapshots(store.db, key === undefined ? {} : { periods: [key] }));
        if (ctx.json)
          return printJson(
            snapshots.map(({ head, rows }) => ({
              snapshot_id: head.snapshotId,
              period: head.period,
              kind: head.kind,
              taken_at: new Date(head.takenAt).toISOString(),
              rows: rows.map(snapshotFiguresJson),
            })),
          );
        if (snapshots.length === 0) return print(key === undefined ? 'no snapshots yet' : `no snapshots of ${key}`);
        const how = await snapshotLayout(store);
        print(`(money in ${how.layout.currency}; times in ${how.layout.zone})`);
        for (const { head, rows } of snapshots) {
          print(`${head.period}  ${head.kind}  ${formatTime(head.takenAt, how.layout.zone)}  ${head.snapshotId}`);
          for (const line of snapshotTable(rows, how)) print(line);
        }
      });
    });
}
