import type { Mapping } from '../mapping.js';
import { hubspotMapping } from './hubspot.js';
import { pipedriveMapping } from './pipedrive.js';
import { salesforceMapping } from './salesforce.js';

export const IMPORT_FORMATS = ['pipedrive', 'hubspot', 'salesforce', 'maven', 'generic'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** The single-file CRM exports, each a mapping shipped in code. */
export const builtinMappings: Record<'pipedrive' | 'hubspot' | 'salesforce', Mapping> = {
  pipedrive: pipedriveMapping,
  hubspot: hubspotMapping,
  salesforce: salesforceMapping,
};
