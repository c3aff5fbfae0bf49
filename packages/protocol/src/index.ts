/**
 * @tandem/protocol: the infinoted 0.7 wire dialect (XMPP subset, SASL, Infinote messages) as
 * pure codecs and state machines. No sockets: callers feed bytes/elements and send what they get.
 */
export { Element } from '@xmpp/xml';
export { isXmlChar, escapeText, escapeAttribute } from './xml/chars.js';
export { readText, appendText, splitXmlText, textOfBytes } from './xml/text.js';
export { serialize, serializeStartTag, SerializedElement } from './xml/serialize.js';
export type { SerializeOptions } from './xml/serialize.js';
export { XmlParser, XmlError, parseXmlDocument, defaultStreamLimits } from './xml/parser.js';
export type { XmlEvent, XmlLimits, XmlParserOptions, XmlErrorCondition } from './xml/parser.js';
export { ErrorCodes, InfError, defaultErrorMessage, requestError, toRequestFailed, fromRequestFailed, toSyncError, fromSyncError, toErrorElement, fromErrorElement } from './errors.js';
export type { ErrorDomain, KnownErrorDomain } from './errors.js';
export { formatDouble, parseUint, parseInt32, parseDouble, requireAttr, optionalAttr, uintAttr } from './infinote/values.js';
export {
  decodeTimeDiff, encodeTimeDiff, parseStatus, decodeOperation, encodeOperation, affectsBuffer,
  decodeRequest, decodeRequestAndTime, encodeRequest, decodeSyncRequest, encodeSyncRequest, encodeUser, decodeUser, decodeSyncUser,
  encodeUserJoinRequest, decodeUserJoinRequest, encodeUserStatusChange, decodeUserStatusChange,
  encodeUserColorChange, decodeUserColorChange, encodeInvalidRequest, decodeInvalidRequest,
  encodeSyncBegin, decodeSyncBegin, encodeSyncSegment, decodeSyncSegment, splitSegments,
  SYNC_SEGMENT_MAX_BYTES, encodeSignal,
} from './infinote/session.js';
export type {
  UserStatus, Segment, WireOperation, WireRequest, WireSyncRequest, WireUser, UserJoinRequest, SyncUserTaken,
  InvalidRequest, SessionSignal,
} from './infinote/session.js';
export { syncRequestXml, syncSegmentXml, operationXml, textXml } from './infinote/sync-xml.js';
export {
  requestBodyFromWire, incomingFromWire, requestFromWireSync, wireOperationOf, wireSyncOf, userInitFromWire,
} from './infinote/adopted.js';
export {
  NS_STREAMS, NS_SASL, NS_TLS, NS_STREAM_ERRORS, STREAM_ERROR_CONDITIONS, SASL_FAILURE_CONDITIONS, STREAM_CLOSE,
  clientHeader, serverHeader, features, saslFailure, streamError, base64Encode, base64Decode,
} from './stream/elements.js';
export type { SecurityPolicy, SaslMechanism, StreamErrorCondition, SaslFailureCondition } from './stream/elements.js';
export { ServerStream } from './stream/server.js';
export type { ServerAction, ServerStreamOptions, SaslCredentials, AuthResult } from './stream/server.js';
export { ClientStream } from './stream/client.js';
export type { ClientAction, ClientStreamOptions, ClientSasl, ClientRefusal } from './stream/client.js';
export { decodeGroup, encodeGroup, formatReplySeq, parseReplySeq, requestSeq } from './infinote/group.js';
export type { GroupEnvelope, ReplySeq } from './infinote/group.js';
export { ACL_SETTINGS, decodePerms, encodePerms, decodeAcl, encodeAcl, decodeAccount, accountAttrs } from './infinote/acl.js';
export type { AclSetting, AclPerms, AclSheet, AclAccount } from './infinote/acl.js';
export {
  decodeDirectoryRequest, encodeDirectoryRequest, decodeDirectoryReply, encodeDirectoryReply, unexpectedMessage,
} from './infinote/directory.js';
export type { DirectoryRequest, DirectoryReply } from './infinote/directory.js';
export { decodeChatMessage, encodeChatMessage } from './infinote/chat.js';
export type { ChatMessage, ChatMessageType } from './infinote/chat.js';
