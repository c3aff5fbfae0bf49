/**
 * @tandem/protocol: the infinoted 0.7 wire dialect (XMPP subset, SASL, Infinote messages) as
 * pure codecs and state machines. No sockets: callers feed bytes/elements and send what they get.
 */
export { Element } from '@xmpp/xml';
export { isXmlChar, escapeText, escapeAttribute } from './xml/chars.js';
export { readText, appendText, XmlContentError } from './xml/text.js';
export { serialize, serializeStartTag } from './xml/serialize.js';
export type { SerializeOptions } from './xml/serialize.js';
export { XmlParser, XmlError, parseXmlDocument, defaultStreamLimits } from './xml/parser.js';
export type { XmlEvent, XmlLimits, XmlParserOptions, XmlErrorCondition } from './xml/parser.js';
