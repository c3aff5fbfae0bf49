// @tandem/client: a headless Infinote client (connect, browse, edit, chat) and the `tandem` CLI.
export { connect, TandemClient } from './client.js';
export type { ClientOptions, OpenOptions, ClientEvents } from './client.js';
export { TextDocument } from './text-document.js';
export type { TextChange, TextSegment, User, TextDocumentEvents } from './text-document.js';
export { ChatSession } from './chat.js';
export type { ChatMessage, ChatMessageType, ChatEvents } from './chat.js';
export type { DirectoryNode, NodeType } from './directory.js';
export { ClientError, RequestFailedError } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export { KnownServers, CertificateChangedError, configDirectory } from './net/known-servers.js';
export { DEFAULT_PORT } from './net/connection.js';
export type { ConnectOptions } from './net/connection.js';
export { minimalEdit } from './text/minimal-edit.js';
export type { EditStep } from './text/minimal-edit.js';
export { codePointLength, codePointsToUnits, unitsToCodePoints } from './text/units.js';
export { runCli } from './cli/lazy.js';
export type { CliOptions } from './cli/main.js';
