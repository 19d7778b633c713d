import type { DomainError } from '../domain/errors.js';

/**
 * What the command line reports when it stops. Exit codes are part of the interface for
 * scripts: 1 means the input or the current state refused the command (a domain refusal, an
 * invalid file, a missing lead); 2 means the command line itself was wrong (unknown option,
 * malformed value). Anything unexpected also exits 1, with a stack under --debug.
 */

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
    /** Extra lines printed under the message, e.g. every problem of a process file. */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** A refusal by the process rules: the one line people see is the rule's own message and its stable code. */
export function refused(error: DomainError): CliError {
  return new CliError(`${error.message} [${error.code}]`);
}
