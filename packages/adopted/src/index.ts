export { StateVector, StateVectorError } from './state-vector.js';
export type { UserId } from './state-vector.js';
