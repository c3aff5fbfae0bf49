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
  isAdoptedError,
} from './errors.js';
export { AdoptedSession } from './session.js';
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
  UserInfo,
  UserInit,
  UserStatus,
} from './session.js';
