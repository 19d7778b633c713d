import { describe, expect, it } from 'vitest';
import { formatProblem, parseProcess } from '../../src/domain/process-load.js';

/**
 * A rep listed twice in a team's members is refused: round robin resumes after the first place
 * the rep appears, so with [a, b, a, c] it went a, b, a, b, ... and c got nothing. `weight` is
 * how a rep gets a larger share.
 */

const withMembers = (members: string): string => `name: Members
users:
  - { id: boss, name: Boss }
  - { id: a, name: A }
  - { id: b, name: B }
  - { id: c, name: C }
teams:
  - { id: t, name: T, members: [boss] }
  - id: u
    name: U
    members: ${members}
assignment:
  default_owner: boss
  rules:
    - { id: r, to: { team: u, strategy: round_robin } }
pipelines:
  - id: nb
    name: New business
    stages:
      - { id: qualify, name: Qualify }
`;

function problems(text: string): string[] {
  const r = parseProcess(text);
  return r.ok ? [] : r.problems.map(formatProblem);
}

describe('team members', () => {
  it('refuses a member listed twice, at the second place, pointing to weight', () => {
    expect(problems(withMembers('[a, b, a, c]'))).toEqual([
      'teams[1].members[2]: user "a" is listed twice (also members[0]); list each member once: for a larger share, raise their weight (users[1].weight) and use strategy: weighted (line 11)',
    ]);
  });

  it('names each repeat on its own line in a block list', () => {
    expect(problems(withMembers('\n      - c\n      - a\n      - c\n      - c'))).toEqual([
      'teams[1].members[2]: user "c" is listed twice (also members[0]); list each member once: for a larger share, raise their weight (users[3].weight) and use strategy: weighted (line 14)',
      'teams[1].members[3]: user "c" is listed twice (also members[0]); list each member once: for a larger share, raise their weight (users[3].weight) and use strategy: weighted (line 15)',
    ]);
  });

  it('accepts each member once, and the same member in two teams', () => {
    expect(problems(withMembers('[a, b, c, boss]'))).toEqual([]);
  });
});
