// bench/blocks.ts: a benchmark run replaces only its generated blocks of BENCHMARKS.md.
import { describe, expect, it } from 'vitest';
import { withBlocks } from '../bench/blocks.js';

describe('withBlocks', () => {
  it('replaces marked blocks, keeps hand-written text, appends missing blocks', () => {
    const text = 'intro\n<!-- bench:table -->\nold table\n<!-- /bench:table -->\n\n## Notes by hand\nkeep me\n';
    const out = withBlocks(text, { table: 'new table', pending: 'todo' });
    expect(out).toBe('intro\n<!-- bench:table -->\nnew table\n<!-- /bench:table -->\n\n## Notes by hand\nkeep me\n\n\n<!-- bench:pending -->\ntodo\n<!-- /bench:pending -->\n');
    expect(withBlocks(out, { table: 'x', pending: 'y' })).toContain('## Notes by hand\nkeep me');
    expect(withBlocks('', { table: 't' })).toBe('<!-- bench:table -->\nt\n<!-- /bench:table -->\n');
  });
});
