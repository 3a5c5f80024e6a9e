#!/usr/bin/env node
// Scaffolds a workspace package with the project's conventions (tsup ESM + .d.ts, vitest, strict TS,
// typedoc entry). Usage: node tools/new-package.mjs packages/lpt @vla/lpt "One-line description"
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [dir, name, description = ''] = process.argv.slice(2);
if (!dir || !name) {
  console.error('usage: node tools/new-package.mjs <dir> <@vla/name> "description"');
  process.exit(2);
}
if (existsSync(join(dir, 'package.json'))) {
  console.error(`${dir}/package.json exists; not overwriting`);
  process.exit(2);
}
const isPackage = dir.startsWith('packages/');
mkdirSync(join(dir, 'src'), { recursive: true });
mkdirSync(join(dir, 'test'), { recursive: true });
const pkg = {
  name,
  version: '0.0.0',
  description,
  type: 'module',
  license: 'MIT',
  ...(isPackage ? {} : { private: true }),
  main: './dist/index.js',
  types: './dist/index.d.ts',
  exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
  files: ['dist', 'README.md'],
  sideEffects: false,
  scripts: {
    build: 'tsup',
    test: 'vitest run',
    lint: 'eslint src test',
    typecheck: 'tsc --noEmit',
  },
  ...(isPackage ? { publishConfig: { access: 'public' } } : {}),
  dependencies: {},
};
const w = (f, s) => writeFileSync(join(dir, f), s);
w('package.json', JSON.stringify(pkg, null, 2) + '\n');
w(
  'tsconfig.json',
  JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src', 'test', 'bench'] }, null, 2) + '\n',
);
w(
  'tsup.config.ts',
  `import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
`,
);
w(
  'vitest.config.ts',
  `import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['test/**/*.test.ts'] } });
`,
);
w('typedoc.json', JSON.stringify({ extends: ['../../typedoc.base.json'], entryPoints: ['src/index.ts'] }, null, 2) + '\n');
w('src/index.ts', `/** ${description} */\nexport {};\n`);
w('README.md', `# ${name}\n\n${description}\n`);
console.log(`created ${dir} (${name})`);
