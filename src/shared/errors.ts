/**
 * Errors with stable codes (`LAB_ERR_*`) so the CLI can print them clearly and tests can match on
 * the code rather than on prose.
 */
export type LabErrorCode =
  | 'LAB_ERR_INVALID_MANIFEST'
  | 'LAB_ERR_UNKNOWN_KIND'
  | 'LAB_ERR_NOT_FOUND'
  | 'LAB_ERR_UNKNOWN_IMAGE'
  | 'LAB_ERR_NOT_RUNNING'
  | 'LAB_ERR_ALREADY_RUNNING'
  | 'LAB_ERR_USAGE'
  | 'LAB_ERR_UNAUTHORIZED'
  | 'LAB_ERR_TIMEOUT'
  | 'LAB_ERR_RUNTIME'
  | 'LAB_ERR_INTERNAL';

export class LabError extends Error {
  readonly code: LabErrorCode;
  readonly details?: string[];
  constructor(code: LabErrorCode, message: string, details?: string[]) {
    super(message);
    this.name = 'LabError';
    this.code = code;
    this.details = details;
  }
}
