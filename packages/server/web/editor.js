// tandemd's web editor: one document of the server this page came from, in a textarea, edited
// live with Gobby, libinfinity and `tandem` users. @tandem/client runs here as it runs in Node;
// the WebSocket goes to the same host and port (wss:// when the page came over https://).
//
// The textarea always shows the document's text, with one exception a textarea imposes: its
// value cannot hold a carriage return (the HTML standard turns CR and CR LF into LF). The
// document keeps its CRs: a local edit is located in the textarea's text and carried over to the
// document's text around it, and positions are mapped between the two (`toDoc`, `toView`).
import { connect } from '@tandem/client';

const $ = (id) => document.getElementById(id);
const form = $('open');
const docInput = $('doc');
const userInput = $('user');
const statusLine = $('status');
const textarea = $('text');
const usersList = $('users');

/**
 * What the page is doing, for tests and the curious: status is idle, connecting, ready, closed or
 * error; text is what the textarea shows, documentText the document's text.
 */
const state = {
  status: 'idle',
  message: '',
  path: undefined,
  user: undefined,
  users: [],
  client: undefined,
  doc: undefined,
  get text() {
    return textarea.value;
  },
  get documentText() {
    return state.doc?.text;
  },
};
window.tandemEditor = state;

function setStatus(kind, message) {
  state.status = kind;
  state.message = message;
  statusLine.textContent = message;
  statusLine.className = kind;
}

// ---- The document's text and the textarea's (which has LF where the document has CR or CR LF).

const view = (text) => (text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text);

/** The document index of textarea index `v`, in `text` (the document's). */
function toDoc(text, v) {
  if (!text.includes('\r')) return v;
  let d = 0;
  for (let i = 0; i < v && d < text.length; i++) d += text[d] === '\r' && text[d + 1] === '\n' ? 2 : 1;
  return d;
}

/** The textarea index of document index `d` in `text` (a CR of a CR LF pair takes no place). */
function toView(text, d) {
  if (!text.includes('\r')) return d;
  let v = 0;
  for (let i = 0; i < d && i < text.length; i++) if (!(text[i] === '\r' && text[i + 1] === '\n')) v++;
  return v;
}

// ---- One open document at a time.

/** The document's text as of the last change handled, to map carets through the next one. */
let known = '';
/** Bumped by every start(), so that events of a document we left are ignored. */
let generation = 0;

async function start(path, user) {
  const mine = ++generation;
  await leave();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
  state.path = path;
  state.user = user;
  setStatus('connecting', `Connecting to ${url} …`);
  let client;
  try {
    client = await connect({ url, user, timeoutMs: 15000 });
    if (mine !== generation) return void client.close();
    setStatus('connecting', `Opening ${path} …`);
    const doc = await client.open(path, { create: true, user, retryName: true });
    if (mine !== generation) {
      doc.close();
      return void client.close();
    }
    attach(mine, client, doc);
  } catch (err) {
    if (mine !== generation) return;
    client?.close().catch(() => undefined);
    setStatus('error', `Could not open ${path}: ${err.message}`);
  }
}

function attach(mine, client, doc) {
  state.client = client;
  state.doc = doc;
  state.user = doc.user?.name ?? state.user;
  known = doc.text;
  textarea.value = view(known);
  textarea.setSelectionRange(0, 0);
  textarea.readOnly = false;
  doc.on('change', (change) => {
    if (mine === generation) remoteOrLocal(change);
  });
  doc.on('user-joined', () => mine === generation && renderUsers());
  doc.on('user-left', () => mine === generation && renderUsers());
  doc.on('closed', (reason) => mine === generation && ended(reason ? `The document was closed: ${reason.message}` : 'The document was closed.'));
  client.on('close', (error) => mine === generation && ended(error ? `Disconnected: ${error.message}` : 'Disconnected.'));
  setStatus('ready', `Editing ${doc.path} as ${state.user}`);
  renderUsers();
  textarea.focus();
}

function ended(message) {
  state.doc = undefined;
  state.client = undefined;
  textarea.readOnly = true;
  setStatus('closed', message);
  renderUsers();
}

async function leave() {
  const { doc, client } = state;
  state.doc = undefined;
  state.client = undefined;
  textarea.readOnly = true;
  if (doc) doc.close();
  if (client) await client.close().catch(() => undefined);
}

// ---- Local input: the edit goes in as a minimal change (setText diffs against the document).

textarea.addEventListener('input', () => {
  const doc = state.doc;
  if (!doc) return;
  const before = view(doc.text);
  const now = textarea.value;
  if (before === now) return;
  // The edit as the textarea saw it: what lies between the common start and the common end.
  const max = Math.min(before.length, now.length);
  let head = 0;
  while (head < max && before.charCodeAt(head) === now.charCodeAt(head)) head++;
  let tail = 0;
  while (tail < max - head && before.charCodeAt(before.length - 1 - tail) === now.charCodeAt(now.length - 1 - tail)) tail++;
  const text = doc.text;
  const next = text.slice(0, toDoc(text, head)) + now.slice(head, now.length - tail) + text.slice(toDoc(text, before.length - tail));
  // setText applies the change locally at once (the server's confirmation comes later).
  // Once the connection has ended, its notice says what happened: an edit whose confirmation the
  // closing connection cut off did not fail on its own (the server may well have it).
  doc.setText(next).catch((err) => {
    if (state.doc === doc) setStatus('error', `An edit failed: ${err.message}`);
  });
  if (view(doc.text) !== textarea.value) show(doc.text, (v) => v);
  scheduleCaret();
});

// ---- Changes: remote ones go into the textarea, keeping the user's caret and selection.

function remoteOrLocal(change) {
  const before = known;
  known = state.doc.text;
  if (change.local) return; // the textarea has it already
  const mapDoc = (d) => {
    if (change.kind === 'insert') return d > change.index ? d + change.text.length : d;
    if (d <= change.index) return d;
    return d >= change.index + change.length ? d - change.length : change.index;
  };
  show(known, (v) => toView(known, mapDoc(toDoc(before, v))));
  renderUsers();
}

/** Puts `text` into the textarea, the selection moved by `map` and the scroll position kept. */
function show(text, map) {
  const { selectionStart, selectionEnd, selectionDirection, scrollTop, scrollLeft } = textarea;
  const start = map(selectionStart);
  const end = map(selectionEnd);
  textarea.value = view(text);
  textarea.setSelectionRange(start, end, selectionDirection);
  textarea.scrollTop = scrollTop;
  textarea.scrollLeft = scrollLeft;
}

// ---- Our caret and selection, shown to the others (Gobby draws them), at most every 150 ms.

let caretTimer;
function scheduleCaret() {
  if (caretTimer === undefined && state.doc) caretTimer = setTimeout(sendCaret, 150);
}
function sendCaret() {
  caretTimer = undefined;
  const doc = state.doc;
  if (!doc || !doc.user || document.activeElement !== textarea) return;
  const text = doc.text;
  const start = toDoc(text, textarea.selectionStart);
  const end = toDoc(text, textarea.selectionEnd);
  const backward = textarea.selectionDirection === 'backward';
  const index = backward ? end : start;
  const selection = backward ? start - end : end - start;
  const current = doc.caret;
  if (current.index === index && current.selection === selection) return;
  doc.setCaret(index, selection).catch(() => undefined);
}
document.addEventListener('selectionchange', scheduleCaret);
textarea.addEventListener('select', scheduleCaret);

// ---- Who is here.

function renderUsers() {
  const doc = state.doc;
  const present = doc ? doc.users.filter((u) => u.status !== 'unavailable') : [];
  present.sort((a, b) => a.name.localeCompare(b.name));
  state.users = present.map((u) => u.name);
  const me = doc?.user?.id;
  usersList.replaceChildren(...present.map((u) => {
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    // Gobby colours a user's text by the hue, light enough to read over.
    swatch.style.backgroundColor = `hsl(${Math.round(u.hue * 360)} 75% 75%)`;
    const name = document.createElement('span');
    name.textContent = u.id === me ? `${u.name} (you)` : u.name;
    if (u.id === me) name.className = 'me';
    if (u.status === 'inactive') li.className = 'inactive';
    li.append(swatch, name);
    return li;
  }));
}

// ---- The form and the ?doc=/path&user=NAME address.

function normalisePath(p) {
  const trimmed = p.trim();
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function rememberedName() {
  try {
    return localStorage.getItem('tandem-user');
  } catch {
    return null;
  }
}

const params = new URLSearchParams(location.search);
docInput.value = params.get('doc') ?? '';
userInput.value = params.get('user') ?? rememberedName() ?? `web-${Math.random().toString(16).slice(2, 6)}`;

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const path = normalisePath(docInput.value);
  const user = userInput.value.trim();
  if (path === '/' || user === '') return;
  try {
    localStorage.setItem('tandem-user', user);
  } catch {
    // Storage may be off; the name is in the address anyway.
  }
  const query = `?doc=${encodeURIComponent(path).replace(/%2F/g, '/')}&user=${encodeURIComponent(user)}`;
  history.replaceState(null, '', query);
  void start(path, user);
});

if (docInput.value.trim() !== '' && userInput.value.trim() !== '') {
  void start(normalisePath(docInput.value), userInput.value.trim());
} else {
  setStatus('idle', 'Choose a document (it is created if missing) and a name, then Open.');
}
