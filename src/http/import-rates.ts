import { z } from 'zod';
import type { RateHint } from '../import/plan.js';
import type { FieldError } from './problem.js';

/**
 * Exchange rates for `POST /imports/{format}`: the query parameter `rates=USD:0.92,GBP:1.17`, which
 * every way of sending the file (text/csv, JSON with a CSV or a workbook, Maven's folder) can carry
 * alongside it. Each pair is checked here, naming the pair at fault; the import service then reads
 * them as the CLI's `--rates` file (one `currency,rate` line per pair, so its own checks, such as
 * the organisation's currency having no rate other than 1, name the pair by its position).
 */

/** The label the rates have in the import service's messages: `query.rates:2: …` is the second pair. */
export const RATES_LABEL = 'query.rates';

const PAIR = /^([A-Za-z]{3}):(\d+(?:\.\d+)?|\.\d+)$/;

export const ratesQuery = z
  .string()
  .max(2000)
  .superRefine((raw, ctx) => {
    const seen = new Map<string, number>();
    raw.split(',').forEach((pair, i) => {
      const entry = pair.trim();
      const m = PAIR.exec(entry);
      if (!m?.[1] || !m[2] || !(Number(m[2]) > 0)) {
        ctx.addIssue({
          code: 'custom',
          message: `pair ${i + 1} "${entry}": expected CODE:RATE, a three-letter currency and a positive number with a decimal point (such as USD:0.92)`,
        });
        return;
      }
      const code = m[1].toUpperCase();
      const earlier = seen.get(code);
      if (earlier !== undefined)
        ctx.addIssue({ code: 'custom', message: `pair ${i + 1}: ${code} has a rate already (pair ${earlier})` });
      else seen.set(code, i + 1);
    });
  })
  .transform((raw) => ({
    text: raw
      .split(',')
      .map((pair) => pair.trim().replace(':', ','))
      .join('\n'),
    label: RATES_LABEL,
  }))
  .optional()
  .describe(
    "Exchange rates into the organisation's currency, as CODE:RATE pairs: `USD:0.92,GBP:1.17` means 1 USD = 0.92 " +
      '(as the CLI’s --rates file). A value in another currency without a rate is an error naming its line.',
  );

/** The fix a record in another currency names when it came over HTTP. */
export const httpRateHint: RateHint = (code, home) =>
  `send its rate in the query parameter rates, such as rates=${code}:RATE (1 ${code} = RATE ${home})`;

/** The import service's refusal of the rates (`query.rates:N: message`) as errors on the parameter, or null for another refusal. */
export function ratesErrors(message: string): FieldError[] | null {
  const lines = message.split('\n').filter((l) => l.trim() !== '');
  if (!lines.every((l) => l.startsWith(`${RATES_LABEL}:`))) return null;
  return lines.map((line) => {
    const m = /^query\.rates:(\d+): (.*)$/.exec(line);
    return { field: RATES_LABEL, message: m ? `pair ${m[1]}: ${m[2]}` : line.slice(RATES_LABEL.length + 1).trim() };
  });
}
