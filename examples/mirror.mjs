// Mirrors a live document into a local file: the file is rewritten after every remote change.
//   node examples/mirror.mjs --port 6523 --path /notes mirror.txt [--for 30]
import { writeFile } from 'node:fs/promises';
import { connect } from '@tandem/client';
import { exampleOptions } from './_args.mjs';

const { connect: options, values, positionals } = exampleOptions({
  path: { type: 'string', default: '/notes' },
  for: { type: 'string' },
});
const file = positionals[0] ?? 'mirror.txt';
const client = await connect({ ...options, user: values.user ?? 'mirror' });
const doc = await client.open(values.path); // subscribe only: the mirror never edits

// One write at a time, always of the latest text: two writeFile calls in flight could finish
// in either order and leave an older text in the file. Changes that arrive during a write are
// covered by the one write that follows it.
let writing = Promise.resolve();
let pending = false;
function save() {
  if (pending) return writing;
  pending = true;
  writing = writing.catch(() => undefined).then(async () => {
    pending = false;
    await writeFile(file, doc.text);
  });
  return writing;
}

await save();
console.log(`mirroring ${doc.path} into ${file} (${doc.characters} characters)`);
doc.on('change', (change) => {
  const what = change.kind === 'insert' ? `inserted ${JSON.stringify(change.text)}` : `deleted ${JSON.stringify(change.text)}`;
  console.log(`${change.author.name} ${what} at ${change.index}`);
  save().catch((err) => console.error(`mirror: cannot write ${file}: ${err.message}`));
});
doc.on('user-joined', (u) => console.log(`${u.name} joined`));
doc.on('user-left', (u) => console.log(`${u.name} left`));
const stop = async () => {
  doc.close();
  await writing.catch(() => undefined);
  await client.close();
};
if (values.for) setTimeout(stop, Number(values.for) * 1000);
process.once('SIGINT', stop);
