import { InvalidInputError } from '../core/errors.js';

/**
 * A command line to fix (options that clash, or one that needs another), as opposed to work that
 * failed. The CLI exits 2 for it, as it does for commander's own parse errors.
 */
export class UsageError extends InvalidInputError {
  constructor(message: string, field?: string) {
    super(message, field);
    this.name = 'UsageError';
  }
}
