// The server's side of a subscription, without a client's work: a raw XMPP connection logs in
// (ANONYMOUS), explores the root, subscribes to a document and acknowledges, and the time runs
// from the subscribe-session request until the last byte of `<sync-end/>` has arrived. Nothing
// is parsed: received bytes are only scanned for the markers, so the figure is what the server
// needs to build and send the synchronisation (and the loopback to carry it).
import { connect } from 'node:net';
import { nowMs } from './stats.mjs';

const HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';
const dir = (body) => `<group publisher="you" name="InfDirectory">${body}</group>`;

/** Subscribes to the root-level document `name` on 127.0.0.1:`port`; resolves to { ms, bytes }. */
export function rawSubscribe(port, name, timeoutMs = 600000) {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    let text = '';
    let bytes = 0;
    let step = 'features';
    let t0 = 0;
    let group = '';
    const timer = setTimeout(() => fail(new Error(`raw subscribe of ${name}: timed out in step ${step}`)), timeoutMs);
    const fail = (err) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    const take = (marker) => {
      const i = text.indexOf(marker);
      if (i < 0) return undefined;
      const out = text.slice(0, i + marker.length);
      text = text.slice(i + marker.length);
      return out;
    };
    sock.on('connect', () => sock.write(HEADER));
    sock.on('error', fail);
    sock.on('close', () => fail(new Error(`raw subscribe of ${name}: connection closed in step ${step}`)));
    sock.on('data', (b) => {
      if (step === 'sync') {
        // Only the tail matters: keep enough of it to find a marker split across chunks.
        bytes += b.length;
        text = (text + b.toString('latin1')).slice(-64);
        if (text.includes('<sync-end/>')) {
          const ms = nowMs() - t0;
          sock.write(`<group publisher="you" name="${group}"><sync-ack/></group>`);
          clearTimeout(timer);
          sock.removeAllListeners('close');
          sock.end();
          resolve({ ms, bytes });
        }
        return;
      }
      text += b.toString('utf8');
      for (;;) {
        if (step === 'features' && take('</stream:features>') !== undefined) {
          sock.write('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
          step = 'challenge';
        } else if (step === 'challenge' && take('<challenge') !== undefined) {
          sock.write(`<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${Buffer.from('raw').toString('base64')}</response>`);
          step = 'success';
        } else if (step === 'success' && take('<success') !== undefined) {
          sock.write(HEADER);
          step = 'welcome';
        } else if (step === 'welcome' && take('</welcome></group>') !== undefined) {
          sock.write(dir('<explore-node seq="1" id="0"/>'));
          step = 'explore';
        } else if (step === 'explore') {
          const got = take('<explore-end');
          if (got === undefined) return;
          const m = new RegExp(`<add-node id="(\\d+)" parent="0" name="${name}"`).exec(got);
          if (!m) return fail(new Error(`raw subscribe: no document "${name}" in the root`));
          t0 = nowMs();
          sock.write(dir(`<subscribe-session seq="2" id="${m[1]}"/>`));
          step = 'subscribe';
        } else if (step === 'subscribe') {
          const got = take('<subscribe-session ');
          if (got === undefined) return;
          const rest = take('/>');
          if (rest === undefined) {
            text = '<subscribe-session ' + text;
            return;
          }
          group = /group="([^"]+)"/.exec(rest)[1];
          const id = /id="(\d+)"/.exec(rest)[1];
          sock.write(dir(`<subscribe-ack id="${id}"/>`));
          step = 'sync';
          const already = text;
          text = '';
          if (already) sock.emit('data', Buffer.from(already, 'utf8'));
          return;
        } else {
          return;
        }
      }
    });
  });
}
