import type { LeadState, TaskState } from '../domain/lead.js';
import type { Win } from './quota-plan.js';

/**
 * Counts for the demo's summary and the wins its quotas are set from, read off the lead states
 * the engine returns. A task leaves a lead's state when the lead enters its next stay; if it was
 * still open then, the engine skipped it on the way out.
 */
export class Tally {
  private readonly tasks = new Map<string, TaskState[]>();
  private readonly leads = new Map<string, { status: string; pipeline: string }>();
  readonly wins: Win[] = [];
  onTime = 0;
  late = 0;
  skipped = 0;

  /** Leads seen so far. */
  get leadCount(): number {
    return this.leads.size;
  }

  observe(lead: LeadState): void {
    const before = this.tasks.get(lead.id);
    if (before) {
      for (const t of before) {
        if (lead.tasks.some((x) => x.id === t.id)) continue;
        this.settle(t.status === 'open' ? { ...t, status: 'skipped' } : t);
      }
    }
    this.tasks.set(lead.id, lead.tasks);
    const prev = this.leads.get(lead.id);
    if (lead.status === 'won' && prev?.status !== 'won' && lead.owner && lead.closedAt !== null) {
      const value = Number(lead.fields['value'] ?? 0);
      this.wins.push({ owner: lead.owner, valueMinor: Math.round(value * 100), closedAt: lead.closedAt });
    }
    this.leads.set(lead.id, { status: lead.status, pipeline: lead.pipeline });
  }

  private settle(t: TaskState): void {
    if (t.status === 'skipped') this.skipped++;
    else if (t.status === 'done') {
      if (t.completedAt !== null && t.completedAt <= t.dueAt) this.onTime++;
      else this.late++;
    }
  }

  /** Tasks still on the leads' states: done, skipped at a close, or open. */
  finalTasks(): { onTime: number; late: number; skipped: number; open: number } {
    const out = { onTime: this.onTime, late: this.late, skipped: this.skipped, open: 0 };
    for (const list of this.tasks.values()) {
      for (const t of list) {
        if (t.status === 'open') out.open++;
        else if (t.status === 'skipped') out.skipped++;
        else if (t.completedAt !== null && t.completedAt <= t.dueAt) out.onTime++;
        else out.late++;
      }
    }
    return out;
  }

  leadCounts(): { created: number; won: number; lost: number; open: number; byPipeline: Record<string, number> } {
    const out = { created: this.leads.size, won: 0, lost: 0, open: 0, byPipeline: {} as Record<string, number> };
    for (const l of this.leads.values()) {
      if (l.status === 'won') out.won++;
      else if (l.status === 'lost') out.lost++;
      else out.open++;
      out.byPipeline[l.pipeline] = (out.byPipeline[l.pipeline] ?? 0) + 1;
    }
    return out;
  }
}
