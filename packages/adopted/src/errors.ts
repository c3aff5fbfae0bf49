/**
 * Errors with libinfinity's (domain, code) identity (libinfinity/common/inf-error.h and the
 * adopted/text headers), so that callers branch on codes and can put them on the wire unchanged.
 */

export const AdoptedErrorDomain = {
  ALGORITHM: 'INF_ADOPTED_ALGORITHM_ERROR',
  SESSION: 'INF_ADOPTED_SESSION_ERROR',
  TEXT_OPERATION: 'INF_TEXT_OPERATION_ERROR',
  STATE_VECTOR: 'INF_ADOPTED_STATE_VECTOR_ERROR',
} as const;
export type AdoptedErrorDomain = (typeof AdoptedErrorDomain)[keyof typeof AdoptedErrorDomain];

/** InfAdoptedAlgorithmError. */
export const AlgorithmErrorCode = { NO_UNDO: 0, NO_REDO: 1, FAILED: 2 } as const;
/** InfAdoptedSessionError. */
export const SessionErrorCode = {
  NO_SUCH_USER: 0,
  MISSING_OPERATION: 1,
  INVALID_REQUEST: 2,
  MISSING_STATE_VECTOR: 3,
  FAILED: 4,
} as const;
/** InfTextOperationError. */
export const TextOperationErrorCode = { INVALID_INSERT: 0, INVALID_DELETE: 1, INVALID_MOVE: 2, FAILED: 3 } as const;

export class AdoptedError extends Error {
  constructor(
    readonly domain: AdoptedErrorDomain,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'AdoptedError';
  }

  /** A copy whose message starts with `prefix` (g_propagate_prefixed_error). */
  prefixed(prefix: string): AdoptedError {
    return new AdoptedError(this.domain, this.code, prefix + this.message);
  }
}

/**
 * A request whose translation to the current state would take more steps (folds, transformations,
 * mirrors, recursion included) than the session allows (AdoptedSession.maxTranslationSteps): it
 * was not executed and the state is as before. Not a libinfinity error: libinfinity has no bound
 * and translates for as long (and with as much memory) as it takes.
 */
export class TranslationLimitError extends AdoptedError {
  constructor(message: string) {
    super(AdoptedErrorDomain.ALGORITHM, AlgorithmErrorCode.FAILED, message);
    this.name = 'TranslationLimitError';
  }

  override prefixed(prefix: string): TranslationLimitError {
    return new TranslationLimitError(prefix + this.message);
  }
}

export function isAdoptedError(e: unknown): e is AdoptedError {
  return e instanceof AdoptedError;
}

/**
 * A move that selects past the end of the text (INF_TEXT_OPERATION_ERROR_INVALID_MOVE): what a
 * move transformed against a concurrent deletion can become, as in libinfinity (caret.ts).
 */
export function isInvalidMove(e: unknown): boolean {
  return e instanceof AdoptedError && e.domain === AdoptedErrorDomain.TEXT_OPERATION && e.code === TextOperationErrorCode.INVALID_MOVE;
}
