import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** File name of the bundled page script beside the built module (`dist/`). */
export const DASHBOARD_SCRIPT_FILE = 'dashboard-page.js';

/**
 * Bundles the page's TypeScript (`page/main.ts`, uPlot included) into one browser script with esbuild:
 * an IIFE, minified, with no imports left. Writes `outfile` when given (the build), and returns the
 * code either way. esbuild is a build-time tool, so it is loaded only here, by a specifier the bundler
 * leaves alone.
 */
export async function buildDashboardScript(entry: string, outfile?: string): Promise<string> {
  const specifier = 'esbuild';
  const esbuild = (await import(specifier)) as typeof import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text;
  if (outfile !== undefined) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(outfile, code);
  }
  return code;
}

let script: Promise<string> | undefined;

/**
 * The page script: the bundle the build wrote beside this module, or, when running from source
 * (tests, tsx), `page/main.ts` bundled now. Cached.
 */
export function dashboardScript(): Promise<string> {
  script ??= (async () => {
    const built = fileURLToPath(new URL(`./${DASHBOARD_SCRIPT_FILE}`, import.meta.url));
    if (existsSync(built)) return readFile(built, 'utf8');
    const entry = fileURLToPath(new URL('./page/main.ts', import.meta.url));
    if (!existsSync(entry)) {
      throw new Error(
        `dashboard: the page script is missing (neither ${built} nor ${entry}); rebuild @vla/controller`,
      );
    }
    return buildDashboardScript(entry);
  })();
  script.catch(() => (script = undefined));
  return script;
}
