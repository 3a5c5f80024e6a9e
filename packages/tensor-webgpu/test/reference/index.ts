// Float64 CPU reference implementations for tests.
export * from './ndarray.js';
export * from './math.js';
export * from './reduce.js';
export * from './gather.js';
