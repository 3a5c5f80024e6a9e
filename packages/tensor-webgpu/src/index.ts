/**
 * @vla/tensor-webgpu — tensors, reverse-mode autograd, WGSL kernels, nn modules, optimizers and
 * safetensors on WebGPU, in Node (Dawn) and in the browser.
 * @packageDocumentation
 */
export { Engine, DeviceLostError, GpuOpError } from './runtime/engine.js';
export type { Kernel, Dispatch, StorageBinding, EngineOptions } from './runtime/engine.js';
export { GpuMemoryBudgetError } from './runtime/memoryBudget.js';
export { requestGpu } from './runtime/device.js';
export type { Gpu, RequestGpuOptions } from './runtime/device.js';
export { findSwiftShader, hasGpuDeviceNode, SWIFTSHADER_ICD_PATHS } from './runtime/findVulkanDriver.js';
export type { VulkanDriverChoice } from './runtime/findVulkanDriver.js';
export { bucketSize } from './runtime/bufferPool.js';
export { BufferPool } from './runtime/bufferPool.js';
export type { PoolStats } from './runtime/bufferPool.js';
export {
  init,
  initEngine,
  initWebGpu,
  engine,
  setEngine,
  shutdown,
  runAndExit,
  createBackend,
} from './runtime/session.js';
export type { BackendOptions, EngineFor } from './runtime/session.js';
export { BACKEND_ENV } from './runtime/backend.js';
export type { Backend, BackendKind, DeviceBuffer } from './runtime/backend.js';
export { CpuEngine, CpuBuffer, CPU_THREADS_ENV } from './cpu/cpuEngine.js';
export type { CpuArgs, CpuEngineOptions, CpuRunOptions } from './cpu/cpuEngine.js';
export type { CpuArgType, CpuProgram } from './cpu/program.js';
export { Tensor, contiguousStrides, shapeSize } from './tensor.js';
export type { HostData } from './tensor.js';
export type { DType } from './dtype.js';
export { bytesPerElement, isFloat, storageBytes } from './dtype.js';
export { tidy, keep } from './scope.js';
export { noGrad, isGradEnabled, recordOp, detach } from './autograd.js';
export type { BackwardFn } from './autograd.js';
export { toHalfBits, fromHalfBits, floatsToBf16, bf16ToFloats } from './half.js';
// Ops register themselves with the core (hooks) when loaded.
export * from './ops/index.js';
export { Module, ModuleList, meta, isMeta, withMatrixDtype, currentMatrixDtype } from './nn/module.js';
export type { TensorSpec, ParamOptions, LoadOptions, ToDtypeOptions } from './nn/module.js';
// io (safetensors)
export {
  parseSafetensorsHeader,
  planSafetensors,
  isSafetensorsDType,
  SafetensorsError,
  SAFETENSORS_DTYPE_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
} from './io/safetensorsFormat.js';
export type {
  SafetensorsDType,
  SafetensorsHeader,
  SafetensorsTensorInfo,
  HeaderOptions,
  SafetensorsPlan,
  SafetensorsPlanEntry,
} from './io/safetensorsFormat.js';
export { readSafetensors } from './io/safetensorsReader.js';
export type {
  SafetensorsFile,
  SafetensorsEntry,
  SafetensorsArray,
  ReadSafetensorsOptions,
} from './io/safetensorsReader.js';
export { serializeSafetensors, writeSafetensors } from './io/safetensorsWriter.js';
export type { HostTensor, NamedTensors } from './io/safetensorsWriter.js';
export { loadSafetensors, saveSafetensors } from './io/safetensors.js';
export { tensorFromSafetensors, checkTensorFitsDevice, canLoadAs } from './io/safetensorsTensor.js';
export type { SafetensorsTensorRef, SafetensorsTensorOptions } from './io/safetensorsTensor.js';
export type { LoadSafetensorsOptions, SaveSafetensorsOptions } from './io/safetensors.js';
export type { ByteSourceInput } from './io/byteSource.js';
// optim
export { Optimizer } from './optim/optimizer.js';
export type {
  OptimizerOptions,
  OptimizerStateDict,
  ParamGroup,
  ParamState,
  StepContext,
} from './optim/optimizer.js';
export { AdamW } from './optim/adamw.js';
export type { AdamWOptions } from './optim/adamw.js';
export { SGD } from './optim/sgd.js';
export type { SGDOptions } from './optim/sgd.js';
export { clipGradNorm } from './optim/clipGradNorm.js';
export { constantSchedule, warmupCosineSchedule } from './optim/schedules.js';
export type { LrSchedule, WarmupCosineOptions } from './optim/schedules.js';
// nn layers
export { Sequential } from './nn/sequential.js';
export type { UnaryModule } from './nn/sequential.js';
export {
  manualSeed,
  initGenerator,
  initUniform,
  kaimingUniform,
  initNormal,
  initConstant,
} from './nn/init.js';
export type { InitOptions } from './nn/init.js';
export { Linear } from './nn/linear.js';
export type { LinearOptions } from './nn/linear.js';
export { Embedding } from './nn/embedding.js';
export type { EmbeddingOptions } from './nn/embedding.js';
export { LayerNorm } from './nn/layerNorm.js';
export type { LayerNormOptions } from './nn/layerNorm.js';
export { RMSNorm } from './nn/rmsNorm.js';
export type { RMSNormOptions } from './nn/rmsNorm.js';
export { GroupNorm } from './nn/groupNorm.js';
export type { GroupNormOptions } from './nn/groupNorm.js';
export { Conv2d, ConvTranspose2d } from './nn/conv2d.js';
export type { Conv2dOptions, ConvTranspose2dOptions } from './nn/conv2d.js';
export { SwiGLU } from './nn/swiglu.js';
export type { SwiGLUOptions } from './nn/swiglu.js';
