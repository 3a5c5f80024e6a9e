/**
 * @vla/convert — `vla-convert`: released InternVLA-A1 checkpoints and Hugging Face Qwen3-VL weights
 * into vla policy checkpoints. The conversion itself lives in @vla/internvla-a1; this package adds
 * the robot layout of the statistics and the command line.
 * @packageDocumentation
 */
export { layoutFromStats } from './statsLayout.js';
export { importSummary } from './summary.js';
