import type { Command } from 'commander';
import { AccountError, createAccount } from '../auth/accounts.js';
import { listMembers, ROLES, type Role } from '../store/members.js';
import { contextOf, withStore } from './context.js';
import { CliError, UsageError } from './errors.js';
import { availabilityCommand } from './availability.js';
import { handoverCommand } from './handover.js';
import { print, printJson, table } from './output.js';

/** `stageflow user create|list`: sign-in accounts, for the first admin and for scripts (handover and availability beside them). */

interface CreateOptions {
  role: string;
  email: string;
  name: string;
  id?: string;
  passwordStdin?: boolean;
  canEditProcess?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function userCommands(program: Command): void {
  const user = program
    .command('user')
    .description(
      "sign-in accounts (admins, managers, reps), a person's availability, and handing their open work to others",
    );
  user
    .command('create')
    .description('create an account; a rep or manager id is their user id in the process file')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .requiredOption('--email <email>', 'sign-in address')
    .requiredOption('--name <name>', 'display name')
    .option('--id <id>', 'account id (for reps and managers: their process user id; admins default to "admin")')
    .option('--password-stdin', 'read the password from standard input (so it stays out of shell history)')
    .option('--can-edit-process', 'a manager may apply process versions')
    .action(async (opts: CreateOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!(ROLES as readonly string[]).includes(opts.role))
        throw new UsageError(`--role: expected one of ${ROLES.join(', ')}`);
      if (!opts.passwordStdin) throw new UsageError('give the password on standard input with --password-stdin');
      const password = await readStdin();
      await withStore(ctx, async (store) => {
        try {
          const id =
            opts.id ?? (opts.role === 'admin' && (await listMembers(store.db)).length === 0 ? 'admin' : undefined);
          const m = await createAccount(
            store,
            {
              id,
              email: opts.email,
              name: opts.name,
              role: opts.role as Role,
              password,
              canEditProcess: opts.canEditProcess === true,
            },
            ctx.now,
            'cli',
          );
          if (ctx.json) return printJson({ id: m.id, email: m.email, role: m.role });
          print(`created ${m.role} ${m.id} <${m.email}>`);
        } catch (e) {
          if (e instanceof AccountError) throw new CliError(e.message);
          throw e;
        }
      });
    });
  handoverCommand(user);
  availabilityCommand(user);
  user
    .command('list')
    .description('accounts, with role and state')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const members = await listMembers(store.db);
        if (ctx.json) return printJson(members);
        if (members.length === 0) return print('no accounts yet');
        for (const line of table([
          ['id', 'role', 'email', 'name', 'state'],
          ...members.map((m) => [m.id, m.role, m.email, m.name, m.disabledAt === null ? 'active' : 'disabled']),
        ]))
          print(line);
      });
    });
}
