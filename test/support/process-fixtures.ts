/** A small process used by store and engine tests. */
export const basicProcess = `name: Basic
organisation: { timezone: Europe/Berlin }
users:
  - { id: anna, name: Anna, email: anna@example.com }
  - { id: ben, name: Ben }
teams:
  - { id: t, name: T, manager: anna, members: [anna, ben] }
assignment:
  default_owner: anna
  rules: [{ id: all, to: { team: t } }]
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: qualify
        name: Qualify
        goal: { task_done: call }
        tasks: [{ id: call, title: Discovery call, kind: call, due: { business_days: 1 } }]
      - id: demo
        name: Demo
        goal: { activity: meeting, min: 3 }
        on_enter: [{ enrich: true }]
      - id: close
        name: Close
`;

export const T0 = Date.parse('2026-03-02T09:00:00Z');
