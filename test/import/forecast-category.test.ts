import { describe, expect, it } from 'vitest';
import { compileMapping } from '../../src/import/map-row.js';
import { buildMapping } from '../../src/import/mapping.js';
import { formatImportProblem } from '../../src/import/record.js';

/**
 * A mapped forecast category is imported as the category it spells, as the API stores it; another
 * word is an error on its line rather than a deal silently counted as pipeline (review r6, finding 8).
 */

describe('mapRow: the forecast category column', () => {
  const mapping = buildMapping({
    source: 'sheet',
    columns: { id: 'Ref' },
    fields: { forecast_category: 'Forecast' },
    aliases: { forecast_category: { Upside: 'best_case' } },
  });
  const c = compileMapping(mapping, ['Ref', 'Forecast'], 'f.csv', 'UTC');

  it.each([
    ['Commit', 'commit'],
    ['Best Case', 'best_case'],
    ['best-case', 'best_case'],
    ['PIPELINE', 'pipeline'],
    ['Upside', 'best_case'],
  ])('%j is stored as %s', (cell, stored) => {
    const r = c.mapRow(['1', cell], 2);
    expect(r.problems).toEqual([]);
    expect(r.record.fields).toEqual({ forecast_category: stored });
  });

  it('reports a word that is no category, naming the line, the column and the value', () => {
    const r = c.mapRow(['2', 'comit'], 3);
    expect(r.problems.map(formatImportProblem)).toEqual([
      'f.csv:3: Forecast: "comit": forecast_category must be one of commit, best_case, pipeline (in any case; "best case" is best_case) ' +
        "(the mapping's aliases can translate other words)",
    ]);
    expect(r.record.fields).toEqual({});
  });
});
