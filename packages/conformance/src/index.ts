export { runFile, runsOf, parseRecord, replayRecord } from './runner.js';
export type { FileResult, RunOptions, Runs, Record } from './runner.js';
export { FormatError } from './runner.js';
export { Random } from './random.js';
export { simulate, converged, infinoteTestXml, ALPHABET } from './simulation.js';
export type { Simulation, SimulationOptions, SimulatedRequest } from './simulation.js';
