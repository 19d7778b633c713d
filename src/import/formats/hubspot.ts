import { buildMapping } from '../mapping.js';

/**
 * HubSpot's deal export. Stage history comes from the per-stage `Date entered "Stage (Pipeline)"`
 * columns; "Close Date" is the expected close of an open deal and the close of a closed one.
 */
export const hubspotMapping = buildMapping({
  source: 'hubspot',
  columns: {
    id: 'Record ID',
    name: 'Deal Name',
    stage: 'Deal Stage',
    pipeline: 'Pipeline',
    value: 'Amount',
    currency: 'Currency',
    closed_at: 'Close Date',
    expected_close: 'Close Date',
    owner: 'Deal owner',
    created_at: 'Create Date',
    close_reason: 'Closed Lost Reason',
    source: 'Original Source Type',
    company: 'Associated Company',
    email: 'Associated Contact Email',
  },
  optional_columns: [
    'Currency',
    'Pipeline',
    'Amount',
    'Close Date',
    'Closed Lost Reason',
    'Original Source Type',
    'Associated Company',
    'Associated Contact Email',
  ],
  stage_date_pattern: '^Date entered "(.+?)(?: \\(.+\\))?"$',
  stages: { 'Closed Won': 'won', 'Closed Lost': 'lost' },
  dates: { formats: ['iso', 'yyyy-MM-dd HH:mm', 'M/d/yyyy', 'M/d/yyyy H:mm'] },
});
