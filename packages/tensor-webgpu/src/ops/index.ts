// The ops barrel: one re-export line per op family.
export * from './creation.js';
export * from './random.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './gather.js';
export * from './matmul.js';
export * from './conv.js';
export * from './pool.js';
export * from './resize.js';
export * from './image.js';
export * from './norm.js';
export * from './rope.js';
export * from './attention.js';
