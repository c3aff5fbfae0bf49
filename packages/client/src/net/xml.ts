// The client's XML seam: @tandem/protocol's streaming parser and libxml2-exact serializer,
// wrapped as a stanza reader for a socket. The rest of the client only sees Elements.
import { Element, XmlParser, serialize, readText, appendText, escapeAttribute } from '@tandem/protocol';

export { Element, serialize, readText, appendText };

/** Reads one XMPP stream: the header, then each top-level child as a stanza. */
export class StanzaReader {
  private parser = new XmlParser({ mode: 'stream' });

  constructor(
    private readonly handlers: {
      open(header: Element): void;
      stanza(el: Element): void;
      close(): void;
      error(err: Error): void;
    },
  ) {}

  push(chunk: Buffer): void {
    this.parser.push(chunk);
    for (let ev = this.parser.next(); ev; ev = this.parser.next()) {
      switch (ev.type) {
        case 'open':
          this.handlers.open(ev.element);
          break;
        case 'element':
          this.handlers.stanza(ev.element);
          break;
        case 'close':
          this.handlers.close();
          break;
        case 'error':
          this.handlers.error(ev.error);
          break;
      }
    }
  }

  /** A new stream starts (after STARTTLS and after SASL success, RFC 6120 §5.4.3.3, §6.4.6);
   * input already received for the new stream is kept. */
  restart(): void {
    this.parser.restart();
  }

  /** The transport changed under the stream (STARTTLS): nothing read so far belongs to it. */
  reset(): void {
    this.parser = new XmlParser({ mode: 'stream' });
  }
}

/** A stream header start tag, exactly as libinfinity clients write it (protocol.md §1.3). */
export function streamHeader(host: string): string {
  return `<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="${escapeAttribute(host)}">`;
}
