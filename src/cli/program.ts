import { Command } from 'commander';
import { activityCommands } from './activity.js';
import { auditCommands } from './audit.js';
import { backupCommand } from './backup.js';
import { boardCommand } from './board.js';
import { configCommand } from './config.js';
import { contactCommands } from './contact.js';
import { demoCommand } from './demo.js';
import { exportCommand } from './export.js';
import { forecastCommands } from './forecast.js';
import { importCommand } from './import.js';
import { leadCommands } from './lead.js';
import { migrateCommand } from './migrate.js';
import { outboxCommands } from './outbox.js';
import { processCommands } from './process.js';
import { quotaCommands } from './quota.js';
import { reportCommand } from './report.js';
import { serveCommands } from './serve.js';
import { simulateCommand } from './simulate.js';
import { taskCommands } from './task.js';
import { tickCommand } from './tick.js';
import { userCommands } from './user.js';

/** The `stageflow` command tree. Global options may stand before or after the subcommand. */

export function buildProgram(): Command {
  const program = new Command('stageflow')
    .description('Stageflow: run a sales process on your leads')
    .option('--db <url>', 'database: a postgres:// URL or a SQLite file path (default: $DATABASE_URL)')
    .option('--now <time>', 'the clock for this command, ISO 8601 (default: the real time)')
    .option('--as <user>', 'act as this user')
    .option('--admin', 'act as an admin (needed for --override)')
    .option('--json', 'print data as JSON')
    .option('--debug', 'print stack traces on errors')
    // Errors are reported by main() as one line; commander must not print or exit by itself.
    .exitOverride()
    .configureOutput({ outputError: () => undefined });

  serveCommands(program);
  userCommands(program);
  migrateCommand(program);
  backupCommand(program);
  processCommands(program);
  leadCommands(program);
  taskCommands(program);
  activityCommands(program);
  tickCommand(program);
  outboxCommands(program);
  importCommand(program);
  boardCommand(program);
  simulateCommand(program);
  configCommand(program);
  exportCommand(program);
  contactCommands(program);
  demoCommand(program);
  auditCommands(program);
  reportCommand(program);
  forecastCommands(program);
  quotaCommands(program);
  return program;
}
