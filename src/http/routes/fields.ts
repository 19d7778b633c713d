import { BUILT_IN_FIELDS, fieldCatalogue } from '../../domain/field-catalogue.js';
import { EVERYONE } from '../access.js';
import type { AppContext } from '../app.js';
import { Problem } from '../problem.js';
import { fieldCatalogueSchema } from '../schemas.js';
import type { Api } from './shared.js';

/** The field catalogue of the current process (docs/process.md, fields), as Pipedrive's dealFields. */
export function fieldRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/fields',
    {
      schema: {
        tags: ['process'],
        summary: "The fields a lead may have: the built-in ones and the process's own, with type, label and options",
        response: { 200: fieldCatalogueSchema },
      },
      // Anyone who reads leads builds forms and filters from it; before any process, nothing to list.
      config: { access: { roles: EVERYONE, scope: 'leads:read' }, problems: ['not-found'] },
    },
    async () => {
      const current = await ctx.processes.current();
      if (!current) throw new Problem('not-found', 'no process has been applied yet');
      const catalogue = fieldCatalogue(current.process);
      return {
        version: current.version,
        open: catalogue === null,
        items: catalogue ?? BUILT_IN_FIELDS.map((f) => ({ ...f, builtIn: true })),
      };
    },
  );
}
