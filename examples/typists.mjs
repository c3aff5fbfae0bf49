// Several typists editing one document at once over separate connections; at the end every
// copy must hold the same text (adOPTed transforms the concurrent edits).
//   node examples/typists.mjs --port 6523 [--path /race] [--typists 3] [--keys 20]
import { connect } from '@tandem/client';
import { exampleOptions } from './_args.mjs';

const { connect: options, values } = exampleOptions({
  path: { type: 'string', default: '/race' },
  typists: { type: 'string', default: '3' },
  keys: { type: 'string', default: '20' },
});
const names = Array.from({ length: Number(values.typists) }, (_, i) => `typist-${i + 1}`);
const setup = await connect({ ...options, user: 'setup' });
if (!(await setup.browse('/')).some((n) => n.path === values.path)) await setup.create(values.path);
await setup.close();

const typists = await Promise.all(names.map(async (name, i) => {
  const client = await connect({ ...options, user: name });
  const doc = await client.open(values.path, { user: name, retryName: true });
  return { client, doc, glyph: ['😀', 'a', 'é', '#', 'Z'][i % 5] };
}));
await Promise.all(typists.map(async ({ doc, glyph }) => {
  for (let k = 0; k < Number(values.keys); k++) {
    const at = Math.floor(Math.random() * (doc.text.length + 1));
    // Never land between the two halves of an emoji: snap to a character boundary.
    const safe = at > 0 && /[\ud800-\udbff]/.test(doc.text[at - 1]) ? at - 1 : at;
    await doc.insert(safe, glyph);
  }
}));
// Let the last relayed edits arrive everywhere.
await Promise.all(typists.map(({ doc }) => doc.flush()));
await new Promise((r) => setTimeout(r, 500));
const texts = typists.map(({ doc }) => doc.text);
const same = texts.every((t) => t === texts[0]);
console.log(texts[0]);
console.log(same ? `converged: ${typists.length} typists, ${Array.from(texts[0]).length} characters` : 'DIVERGED');
for (const { doc, client } of typists) {
  doc.close();
  await client.close();
}
process.exitCode = same ? 0 : 1;
