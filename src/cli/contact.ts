import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { eraseContact, type EraseResult } from '../store/contact-erase.js';
import { exportContact } from '../store/contact-export.js';
import { checkEmail, ContactError, contactLeads, deletedLeadMessages, earlierContactLeads } from '../store/contact.js';
import { normaliseEmail } from '../store/personal-data.js';
import { rememberedOptOut } from '../store/opt-outs.js';
import { isSuppressed } from '../store/suppressions.js';
import { contextOf, withStore, type Context } from './context.js';
import { CliError, UsageError } from './errors.js';
import { plural, print, printJson, table } from './output.js';

/**
 * `stageflow contact export|erase EMAIL`: a person's data requests. Export hands over everything
 * held about them; erase pseudonymises it and stops all automation towards the address
 * (docs/privacy.md). Both are recorded in the audit log.
 */

const actorOf = (ctx: Context): string => ctx.actor.id ?? 'cli';

/** The store's refusals (not an address, an unknown one) as one line, exit 1. */
async function refusing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ContactError) throw new CliError(e.message);
    throw e;
  }
}

function showErase(email: string, r: EraseResult): void {
  if (r.alreadyErased) {
    print(`${email} was already erased: no lead has it, and it stays suppressed`);
    return;
  }
  const lists = r.listErasures.map((e) => `${e.list} (${e.lead})`).join(', ');
  print(`erased ${email}`);
  for (const line of table(
    [
      [
        'leads pseudonymised',
        `${r.leads.length}`,
        r.leads.length > 0 ? `${r.leads.join(', ')} now named ${r.pseudonym}` : '',
      ],
      ...(r.earlierLeads.length > 0
        ? [
            [
              'earlier leads scrubbed',
              `${r.earlierLeads.length}`,
              `${r.earlierLeads.join(', ')} (now someone else's; the person's values now ${r.pseudonym})`,
            ],
          ]
        : []),
      ...(r.mentioningLeads.length > 0
        ? [
            [
              'other leads scrubbed',
              `${r.mentioningLeads.length}`,
              `${r.mentioningLeads.join(', ')} (quoted the address; now ${r.pseudonym})`,
            ],
          ]
        : []),
      ...(r.deletedLeadMessages > 0 ? [["deleted leads' messages", `${r.deletedLeadMessages}`, 'pseudonymised']] : []),
      ['messages cancelled', `${r.cancelled}`, ''],
      ...(r.keptFiles > 0
        ? [['kept mail files deleted', `${r.keptFiles - r.keptFilesLeft.length}`, 'the .eml files of their messages']]
        : []),
      ['list erasures queued', `${r.listErasures.length}`, lists],
      ['suppressed', 'yes', `hash ${r.emailHash.slice(0, 12)}…`],
    ],
    '  ',
  ))
    print(line);
  for (const left of r.keptFilesLeft)
    process.stderr.write(`stageflow: warning: kept mail file not deleted, delete it by hand: ${left}\n`);
}

export function contactCommands(program: Command): void {
  const contact = program.command('contact').description("a person's data: export it or erase it (by email address)");

  contact
    .command('export')
    .description('everything held about the person with this address, as one JSON document')
    .argument('<email>', 'the email address')
    .option('--out <file>', 'write the JSON to this file instead of stdout')
    .action(async (email: string, opts: { out?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const data = await refusing(() => exportContact(store, email, actorOf(ctx), ctx.now));
        if (opts.out === undefined) return printJson(data);
        writeFileSync(opts.out, `${JSON.stringify(data, null, 2)}\n`);
        const elsewhere = [
          ...(data.earlier_leads.length > 0 ? [plural(data.earlier_leads.length, 'earlier lead')] : []),
          ...(data.mentioning_leads.length > 0
            ? [plural(data.mentioning_leads.length, 'other lead quoting it', 'other leads quoting it')]
            : []),
          ...(data.deleted_lead_messages.length > 0
            ? [plural(data.deleted_lead_messages.length, "deleted lead's message", "deleted leads' messages")]
            : []),
        ];
        const also = elsewhere.length > 0 ? ` (and ${elsewhere.join(', ')})` : '';
        print(`exported ${plural(data.leads.length, 'lead')}${also} of ${data.email} to ${opts.out}`);
      });
    });

  contact
    .command('erase')
    .description('pseudonymise the person, cancel their messages, erase them from mailing lists, suppress the address')
    .argument('<email>', 'the email address')
    .option('--yes', 'really erase: this cannot be undone')
    .action(async (email: string, opts: { yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        if (opts.yes !== true) {
          // Say what would happen, so the second run with --yes is an informed one.
          const norm = await refusing(() => Promise.resolve(checkEmail(email)));
          const leads = await contactLeads(store.db, norm, false);
          const ids = leads.map((l) => l.id);
          const [earlier, orphans] = await Promise.all([
            earlierContactLeads(store.db, norm, ids, false),
            deletedLeadMessages(store.db, norm),
          ]);
          if (leads.length === 0 && earlier.length === 0 && orphans.length === 0) {
            if (await isSuppressed(store.db, norm))
              throw new CliError(`${norm} was already erased: no lead has it, and it stays suppressed`);
            // Known only by its remembered opt-out, it can still be erased (suppressed).
            if ((await rememberedOptOut(store.db, norm)) === null)
              throw new CliError(`no lead has the email address ${norm}, and it was never erased`);
          }
          throw new UsageError(
            `contact erase: not erasing ${norm} without --yes (it would pseudonymise ${plural(leads.length, 'lead')}` +
              (earlier.length > 0 ? `, scrub ${plural(earlier.length, 'earlier lead')}` : '') +
              (orphans.length > 0
                ? `, pseudonymise ${plural(orphans.length, "deleted lead's message", "deleted leads' messages")}`
                : '') +
              '; this cannot be undone). Nothing was changed.',
          );
        }
        const result = await refusing(() => eraseContact(store, email, actorOf(ctx), ctx.now));
        if (ctx.json) return printJson(result);
        showErase(normaliseEmail(email), result);
      });
    });
}
