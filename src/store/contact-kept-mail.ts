import { readFile, unlink } from 'node:fs/promises';

/**
 * Mail kept as an .eml file (the worker ran without SMTP_URL): the row's `detail` names the file
 * under MAIL_DIR. The file holds the message as it was composed (the address, and whatever the
 * template put in: name, company, deal), so a contact's export hands it over and their erasure
 * deletes it.
 */

/**
 * How the mail deliverer records a kept row: this prefix, then the file (KEPT_PREFIX in
 * src/integrations/mail/deliver.ts, which the store does not import; a test checks they agree).
 * Matched on the detail whatever the row's status says.
 */
export const KEPT_MAIL_PREFIX = 'not sent (SMTP_URL is unset): kept as ';

/** What a kept row's detail says once the erase has deleted its file. */
export const KEPT_MAIL_ERASED = 'not sent (SMTP_URL is unset): its file was deleted when the contact was erased';

/** The file a row was kept as, or null. */
export function keptFile(detail: string | null): string | null {
  return detail?.startsWith(KEPT_MAIL_PREFIX) ? detail.slice(KEPT_MAIL_PREFIX.length) : null;
}

/** A kept row's message as LF text for an export; null if the row was not kept, a note if the file is gone. */
export async function keptMessage(detail: string | null): Promise<string | null> {
  const file = keptFile(detail);
  if (file === null) return null;
  try {
    return (await readFile(file, 'utf8')).replace(/\r\n/g, '\n');
  } catch (e) {
    return `(the file ${file} could not be read: ${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
}

/**
 * Deletes the files, after the erase committed (a rolled-back erase must not lose them). A file
 * already gone is done; the others are returned with the reason, for the caller to report.
 */
export async function deleteKeptFiles(files: readonly string[]): Promise<string[]> {
  const left: string[] = [];
  for (const file of new Set(files))
    await unlink(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') left.push(`${file}: ${e.code ?? e.message}`);
    });
  return left;
}
