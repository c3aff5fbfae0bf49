#!/usr/bin/env node
// Logging loopback TCP relay: node tools/relay/relay.mjs LISTEN_PORT TARGET_PORT [LOGFILE]
// Put it between a client and a server (infinoted or tandemd) to see both directions' bytes in
// the format of shared/captures/*.log, so the two servers' transcripts can be diffed:
//   ### connN OPEN t=SECONDS
//   ### connN C->S|S->C t=SECONDS len=BYTES      followed by the chunk as UTF-8 and a newline
//   ### connN C->S|S->C EOF t=SECONDS
// A chunk that is not valid UTF-8 (TLS records after STARTTLS) is written as
// <<binary N bytes: HEX OF THE FIRST 64 BYTES>>. Without LOGFILE the log goes to stdout.
import { createWriteStream } from 'node:fs';
import { createConnection, createServer } from 'node:net';

const [listenArg, targetArg, logFile] = process.argv.slice(2);
const listenPort = Number(listenArg);
const targetPort = Number(targetArg);
if (!Number.isInteger(listenPort) || !Number.isInteger(targetPort) || listenPort < 0 || targetPort <= 0) {
  process.stderr.write('usage: node tools/relay/relay.mjs LISTEN_PORT TARGET_PORT [LOGFILE]\n');
  process.exit(2);
}

const out = logFile ? createWriteStream(logFile, { flags: 'a' }) : process.stdout;
const t0 = process.hrtime.bigint();
const now = () => (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3);
const decoder = new TextDecoder('utf-8', { fatal: true });

// XML 1.0 text never holds C0 controls other than TAB, LF, CR, so a chunk with one is a TLS
// record even when it happens to be valid UTF-8 (e.g. the 6-byte ChangeCipherSpec).
const NON_XML_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

function render(chunk) {
  let text;
  try {
    text = decoder.decode(chunk);
  } catch {
    text = null;
  }
  if (text === null || NON_XML_CONTROL.test(text)) {
    return `<<binary ${chunk.length} bytes: ${chunk.subarray(0, 64).toString('hex')}>>`;
  }
  return text;
}

let connCount = 0;
const server = createServer((client) => {
  const id = ++connCount;
  out.write(`### conn${id} OPEN t=${now()}\n`);
  const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
  const pump = (src, dst, dir) => {
    src.on('data', (chunk) => {
      out.write(`### conn${id} ${dir} t=${now()} len=${chunk.length}\n${render(chunk)}\n`);
      dst.write(chunk);
    });
    src.on('end', () => {
      out.write(`### conn${id} ${dir} EOF t=${now()}\n`);
      dst.end();
    });
    src.on('error', (e) => {
      out.write(`### conn${id} ${dir} t=${now()} len=0\n<<error ${e.message}>>\n`);
      dst.destroy();
    });
  };
  pump(client, upstream, 'C->S');
  pump(upstream, client, 'S->C');
});
server.listen(listenPort, '127.0.0.1', () => {
  const addr = server.address();
  process.stderr.write(`relay listening on 127.0.0.1:${addr.port} -> 127.0.0.1:${targetPort}\n`);
});
