// Builds the console's web app (web/ → dist/web) with Vite, unless dist/web is newer than every
// file it is built from: the root build runs this on every `npm run build`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const stamp = join(here, 'dist/web/index.html');

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let t = s.mtimeMs;
  for (const e of readdirSync(path)) t = Math.max(t, newest(join(path, e)));
  return t;
}

const sources = ['web', 'vite.config.ts', 'package.json'].map((p) => join(here, p));
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (process.argv.includes('--force') || sources.some((p) => newest(p) > built)) {
  const { build } = await import('vite');
  await build({ configFile: join(here, 'vite.config.ts'), logLevel: 'warn' });
  console.log('console: web app built into dist/web');
}
