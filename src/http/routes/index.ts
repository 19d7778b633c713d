import type { AppContext } from '../app.js';
import { activityRoutes } from './activities.js';
import { adminRoutes } from './admin.js';
import { authRoutes } from './auth.js';
import { boardRoutes } from './board.js';
import { dataRoutes } from './data.js';
import { fieldRoutes } from './fields.js';
import { forecastingRoutes } from './forecasting.js';
import { handoverRoutes } from './handover.js';
import { leadDetailRoutes } from './lead-detail.js';
import { leadRoutes } from './leads.js';
import { processRoutes } from './process.js';
import { reportRoutes } from './reports.js';
import type { Api } from './shared.js';
import { taskRoutes } from './tasks.js';
import { tokenRoutes } from './tokens.js';
import { userRoutes } from './users.js';

/** Every resource under /api/v1; each module declares its routes' access next to them. */
export function registerRoutes(api: Api, ctx: AppContext): void {
  authRoutes(api, ctx);
  tokenRoutes(api, ctx);
  userRoutes(api, ctx);
  handoverRoutes(api, ctx);
  leadRoutes(api, ctx);
  leadDetailRoutes(api, ctx);
  taskRoutes(api, ctx);
  activityRoutes(api, ctx);
  processRoutes(api, ctx);
  fieldRoutes(api, ctx);
  reportRoutes(api, ctx);
  adminRoutes(api, ctx);
  boardRoutes(api, ctx);
  dataRoutes(api, ctx);
  forecastingRoutes(api, ctx);
}
