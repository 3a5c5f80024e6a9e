#!/usr/bin/env node
// Adds up vitest's per-package "Tests  N passed | M skipped (T)" lines from a test log and prints
// one plain closing line: "tests: P passed, F failed, S skipped". Usage: node scripts/test-summary.mjs LOG
import { readFileSync } from 'node:fs';

const log = readFileSync(process.argv[2], 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
const totals = { passed: 0, failed: 0, skipped: 0 };
let suites = 0;
for (const line of log.split('\n')) {
  const m = /^(?:\S+:\s+)?\s*Tests\s+(.*)\(\d+\)\s*$/.exec(line);
  if (!m) continue;
  suites++;
  for (const [, n, kind] of m[1].matchAll(/(\d+)\s+(passed|failed|skipped|todo)/g)) {
    if (kind in totals) totals[kind] += Number(n);
  }
}
console.log(`test suites: ${suites}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
