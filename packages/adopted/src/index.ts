export { StateVector, StateVectorError } from './state-vector.js';
export type { UserId } from './state-vector.js';
export { Chunk, cpLength } from './chunk.js';
export type { Segment } from './chunk.js';
export { TextBuffer } from './buffer.js';
export { transformCaretInsert, transformCaretDelete } from './caret.js';
export {
  AdoptedError,
  AdoptedErrorDomain,
  AlgorithmErrorCode,
  SessionErrorCode,
  TextOperationErrorCode,
  TranslationLimitError,
  isAdoptedError,
  isInvalidMove,
} from './errors.js';
export { AdoptedSession } from './session.js';
export { userTableOrder } from './user-order.js';
/** Diagnostics for tests: insert/insert ties decided by user id (where libinfinity can depend on order). */
export { tieStats } from './operations.js';
export type {
  BufferChange,
  Executed,
  IncomingRequest,
  LocalResult,
  Operation,
  ReceiveResult,
  Request,
  RequestBody,
  SessionOptions,
  SessionState,
  SyncReceiver,
  UserInfo,
  UserInit,
  UserStatus,
} from './session.js';
