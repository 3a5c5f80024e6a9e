// `npm start -- [checkpoint] [--port N] [--host H]`: serves the page with the checkpoint (default: the
// policy shipped with vla) and prints its URL.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serveBrowserPolicy } from './serve.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer in 0…65535, got ${values.port}`);
  process.exit(2);
}
// `npm start -w …` runs in the example's folder: a relative path means the folder npm was started in.
const checkpoint =
  positionals[0] === undefined ? undefined : resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0]);
if (checkpoint !== undefined && !existsSync(checkpoint)) {
  console.error(`no checkpoint at ${checkpoint}`);
  process.exit(2);
}
const server = await serveBrowserPolicy({ checkpoint, host: values.host, port });
console.log(
  checkpoint === undefined
    ? `serving the shipped policy (${server.checkpoint})`
    : `serving ${server.checkpoint}`,
);
console.log(`open ${server.pageUrl}  (Ctrl-C stops)`);
process.on('SIGINT', () => void server.close().then(() => process.exit(0)));
