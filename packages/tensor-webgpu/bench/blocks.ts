// Generated blocks inside a hand-edited markdown file (BENCHMARKS.md).

/**
 * `text` with each named block (between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`) replaced;
 * blocks the text lacks are appended. Everything outside the markers is kept as written.
 */
export function withBlocks(text: string, blocks: Record<string, string>): string {
  let out = text;
  for (const [name, body] of Object.entries(blocks)) {
    const open = `<!-- bench:${name} -->`;
    const close = `<!-- /bench:${name} -->`;
    const block = `${open}\n${body}\n${close}`;
    const i = out.indexOf(open);
    const j = out.indexOf(close);
    out = i >= 0 && j > i ? out.slice(0, i) + block + out.slice(j + close.length) : `${out}${out ? '\n\n' : ''}${block}\n`;
  }
  return out;
}
