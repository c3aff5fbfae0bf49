export { runFile, runsOf, parseRecord, replayRecord } from './runner.js';
export type { FileResult, RunOptions, Runs, Record } from './runner.js';
export { decodeRequest, decodeSyncRequest, decodeUser, readSegments, FormatError } from './xml-requests.js';
export { Random } from './random.js';
