import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleBlock, rewriteExamples } from '../../scripts/gen-report-docs.js';

/**
 * docs/reports.md's examples are rewritten from real runs by scripts/gen-report-docs.ts. Making
 * the demo database takes about a minute, too long for a test, so this checks what is cheap: the
 * rewriting itself, and that every example in the document is one the script rewrites (an example
 * typed by hand would drift again).
 */

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'reports.md'), 'utf8');

describe('report docs examples', () => {
  it('rewrites each block between markers (with or without blank lines) with the prompt and the output, lines trimmed, cut to lines=N', () => {
    const doc = [
      'intro',
      '<!-- example: report win-rate --by team -->',
      '```',
      '$ stageflow report win-rate --by team',
      'old output',
      '```',
      '<!-- /example -->',
      'between',
      '<!-- example lines=2: report coaching -->',
      '',
      '```',
      '```',
      '',
      '<!-- /example -->',
      '',
    ].join('\n');
    const seen: string[][] = [];
    const { text, count } = rewriteExamples(doc, (args) => {
      seen.push(args);
      return args[1] === 'coaching' ? 'a\nb\nc\n' : 'new  \noutput\n\n';
    });
    expect(count).toBe(2);
    expect(seen).toEqual([
      ['report', 'win-rate', '--by', 'team'],
      ['report', 'coaching'],
    ]);
    expect(text).toBe(
      [
        'intro',
        '<!-- example: report win-rate --by team -->',
        '',
        '```',
        '$ stageflow report win-rate --by team',
        'new',
        'output',
        '```',
        '',
        '<!-- /example -->',
        'between',
        '<!-- example lines=2: report coaching -->',
        '',
        '```',
        '$ stageflow report coaching',
        'a',
        'b',
        '…',
        '```',
        '',
        '<!-- /example -->',
        '',
      ].join('\n'),
    );
    expect(exampleBlock('report x', 'one\n', 5)).toBe(
      '<!-- example lines=5: report x -->\n\n```\n$ stageflow report x\none\n```\n\n<!-- /example -->',
    );
  });

  it('has every example of docs/reports.md between markers, so the script rewrites them all', () => {
    const prompts = DOC.split('\n').filter((l) => l.startsWith('$ stageflow '));
    const { count } = rewriteExamples(DOC, () => '');
    expect(prompts.length).toBeGreaterThan(15);
    expect(count).toBe(prompts.length);
    // Each example runs on the demo with a fixed clock, so it prints the same on every run.
    const markers = [...DOC.matchAll(/^<!-- example(?: lines=\d+)?: (.+?) -->$/gm)].map((m) => m[1] ?? '');
    expect(markers.filter((args) => !args.startsWith('--now '))).toEqual([]);
  });
});
