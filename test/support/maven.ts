import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Maven data set lives beside the checkout (`../shared/datasets/maven-crm`), not in it. A clone
 * elsewhere finds it through MAVEN_DIR, or at the machine's shared folder.
 */
export const MAVEN_DIR =
  [
    process.env['MAVEN_DIR'],
    join(import.meta.dirname, '..', '..', '..', 'shared', 'datasets', 'maven-crm'),
    '/work/shared/datasets/maven-crm',
  ].find((dir): dir is string => dir !== undefined && existsSync(join(dir, 'sales_pipeline.csv'))) ??
  '/work/shared/datasets/maven-crm';
