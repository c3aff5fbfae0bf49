export { runFile, runsOf, parseRecord, replayRecord } from './runner.js';
export type { FileResult, RunOptions, Runs, Record } from './runner.js';
export { FormatError } from './runner.js';
export { Random } from './random.js';
