// Interop harness: run the real infinoted and the real libinfinity client (infdriver.py) from
// mocha tests. tandemd joins later through the same ServerUnderTest shape.
export type { SecurityPolicy, ServerOptions, ServerUnderTest, StartServer } from './server.js';
export { startInfinoted, testCertificate, tempDir, type InfinotedServer } from './infinoted.js';
export {
  startDriver,
  DriverCommandError,
  DRIVER_SCRIPT,
  type InfDriver,
  type DriverOptions,
  type DriverCommands,
  type DriverCommand,
  type DriverEvent,
  type CallOptions,
  type CallOutcome,
  type TextState,
  type Segments,
  type NodeEntry,
  type UserInfo,
  type ChatMessage,
} from './driver.js';
export { freePort, waitForListen } from './ports.js';
export { PYTHON, hasRealLibinfinity, missingLibinfinity, requireRealLibinfinity } from './prerequisites.js';
export { track, stopProcess } from './processes.js';
export { interopFixture, mulberry32, testSeed, type InteropFixture } from './fixtures.js';
