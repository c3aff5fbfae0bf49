// A bot that appends a timestamped line to a document every few seconds.
//   node examples/append-bot.mjs --port 6523 [--path /log] [--every 2] [--count 5]
import { connect } from '@tandem/client';
import { exampleOptions } from './_args.mjs';

const { connect: options, values } = exampleOptions({
  path: { type: 'string', default: '/log' },
  every: { type: 'string', default: '2' },
  count: { type: 'string', default: '5' },
});
const user = values.user ?? 'append-bot';
const client = await connect({ ...options, user });
const doc = await client.open(values.path, { create: true, user, retryName: true });
console.log(`appending to ${doc.path} as ${doc.user.name}`);
for (let i = 1; i <= Number(values.count); i++) {
  const line = `${new Date().toISOString()} tick ${i}\n`;
  await doc.insert(doc.text.length, line); // resolves once the server relayed it
  process.stdout.write(line);
  if (i < Number(values.count)) await new Promise((r) => setTimeout(r, Number(values.every) * 1000));
}
doc.close();
await client.close();
