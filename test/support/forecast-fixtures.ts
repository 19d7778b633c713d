import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { LeadEvent } from '../../src/domain/events.js';
import type { Store } from '../../src/store/db.js';

/**
 * The process of the forecasting tests: three reps in two teams and one pipeline whose middle
 * stage has no probability, so it is `historical`.
 */
export const FORECAST_PROCESS = `name: Forecasting
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna }
  - { id: ben, name: Ben }
  - { id: cleo, name: Cleo }
teams:
  - { id: east, name: East, manager: anna, members: [anna, ben] }
  - { id: west, name: West, manager: cleo, members: [cleo] }
assignment:
  default_owner: anna
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - { id: qualify, name: Qualify, probability: 0.1 }
      - { id: propose, name: Propose }
      - { id: negotiate, name: Negotiate, probability: 0.6 }
`;

export const at = (iso: string): number => Date.parse(iso);

export async function applyForecastProcess(store: Store, start: number): Promise<void> {
  await applyProcess(store, FORECAST_PROCESS, start, 'test');
}

/** Plays `[time, event]` pairs in order through the real engine; a refused event fails the test. */
export async function play(store: Store, events: readonly [string, LeadEvent][]): Promise<Engine> {
  const engine = new Engine(store);
  for (const [time, event] of events) {
    const out = await engine.handle(event, at(time));
    if (!out.ok) throw new Error(`${time} ${event.type} ${event.lead}: ${out.error.message}`);
  }
  return engine;
}
