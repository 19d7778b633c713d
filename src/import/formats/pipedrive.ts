import { buildMapping } from '../mapping.js';

/**
 * Pipedrive's deal export ("Deal - …", "Organization - …", "Person - …" columns). The stage column
 * holds the stage a won or lost deal closed in; "Last stage change" dates the current stay.
 */
export const pipedriveMapping = buildMapping({
  source: 'pipedrive',
  columns: {
    id: 'Deal - ID',
    name: 'Deal - Title',
    value: 'Deal - Value',
    currency: 'Deal - Currency',
    stage: 'Deal - Stage',
    pipeline: 'Deal - Pipeline',
    owner: 'Deal - Owner',
    status: 'Deal - Status',
    created_at: 'Deal - Deal created',
    won_at: 'Deal - Won time',
    lost_at: 'Deal - Lost time',
    close_reason: 'Deal - Lost reason',
    expected_close: 'Deal - Expected close date',
    last_stage_change: 'Deal - Last stage change',
    company: 'Organization - Name',
    contact_name: 'Person - Name',
    email: 'Person - Email',
    phone: 'Person - Phone',
    source: 'Deal - Source channel',
    product: 'Deal - Product name',
  },
  optional_columns: [
    'Deal - Currency',
    'Deal - Pipeline',
    'Deal - Won time',
    'Deal - Lost time',
    'Deal - Lost reason',
    'Deal - Expected close date',
    'Deal - Last stage change',
    'Organization - Name',
    'Person - Name',
    'Person - First name',
    'Person - Last name',
    'Person - Email',
    'Person - Phone',
    'Deal - Source channel',
    'Deal - Product name',
  ],
  fields: { first_name: 'Person - First name', last_name: 'Person - Last name' },
  // "deleted" is not listed: a deleted deal is an invalid record, named by its line (docs/import.md).
  status_values: { open: ['open'], won: ['won'], lost: ['lost'] },
  dates: { formats: ['iso', 'yyyy-MM-dd HH:mm'] },
});
