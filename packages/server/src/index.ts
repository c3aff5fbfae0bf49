/**
 * @tandem/server: tandemd, an infinoted 0.7 compatible server.
 */
export { FilesystemStorage } from './storage/filesystem.js';
export type { Storage, StorageEntry, NodePath } from './storage/types.js';
export { StorageError } from './storage/types.js';
export type { StoredTextDocument, StoredUser, StoredSegment } from './storage/text-format.js';
export type { AclSheet, StoredAccount } from './storage/acl-format.js';
export { loadCredentials, defaultDataDirectory } from './tls/credentials.js';
export type { TlsCredentials } from './tls/credentials.js';
export { parseCommandLine, resolveOptions, helpText, UsageError } from './config/options.js';
export type { TandemdOptions, SecurityPolicy } from './config/options.js';
export { createServer } from './server.js';
export type { ServerOptions, TandemServer } from './server.js';
export { anonymous, plain } from './auth.js';
export type { AuthPolicy, AuthResult } from './auth.js';
export { listenTcp } from './transport/tcp.js';
export type { TcpOptions, TcpListener } from './transport/tcp.js';
export { listenWebSocket } from './transport/ws.js';
export type { WebSocketOptions, WebSocketListener } from './transport/ws.js';
export { createWebEditor, WebEditorUnavailableError } from './transport/web-editor.js';
export type { WebEditor, WebEditorOptions } from './transport/web-editor.js';
export type { TransportInfo, ConnectionLimits } from './connection/connection.js';
export { defaultServerLimits } from './limits.js';
export type { ServerLimits, AdmissionLimits, DirectoryLimits, SessionLimits } from './limits.js';
export { SaveAllError } from './directory/directory.js';
export { startDaemon } from './cli/run.js';
export type { RunningDaemon } from './cli/run.js';
export { loadCertificateAuth } from './accounts/certificate-auth.js';
export type { CertificateAuth, CertificateAuthOptions } from './accounts/certificate-auth.js';
export { CertificateAuthority } from './accounts/certificate-authority.js';
export type {
  Plugin, PluginContext, PluginHooks, LogLevel, ConnectionInfo, SessionInfo, RequestEvent, CheckRequestEvent, SessionErrorEvent,
  ServerUser,
} from './plugins/types.js';
export { buildPlugins, PluginConfigError } from './plugins/registry.js';
