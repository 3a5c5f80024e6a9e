// What every SceneRenderer on one GPUDevice shares: the shader module, bind group layouts, the
// shadow sampler and the render pipelines. Compiling them is most of a renderer's creation cost, and
// the simulator makes a renderer per episode (each episode compiles its own MuJoCo model).
import { SCENE_WGSL } from './renderShaders.js';
import { VERTEX_FLOATS } from './sceneGeometry.js';

// WebGPU stage flags as numbers: the globals are not defined in every runtime before a device exists.
const STAGE = { VERTEX: 0x1, FRAGMENT: 0x2 };

/** Compiled once per device, used by every renderer on it. */
export interface ScenePipelines {
  readonly sceneLayout: GPUBindGroupLayout;
  readonly shadowLayout: GPUBindGroupLayout;
  readonly shadowSampler: GPUSampler;
  readonly shadowPipeline: GPURenderPipeline;
  /** Shaded colour into a target of `format`. */
  color(format: GPUTextureFormat): GPURenderPipeline;
  /** Geom ids into an `r32uint` target. */
  geomIds(): GPURenderPipeline;
}

const perDevice = new WeakMap<GPUDevice, ScenePipelines>();

const VERTEX_LAYOUT: GPUVertexBufferLayout = {
  arrayStride: VERTEX_FLOATS * 4,
  attributes: [
    { shaderLocation: 0, offset: 0, format: 'float32x3' },
    { shaderLocation: 1, offset: 12, format: 'float32x3' },
    { shaderLocation: 2, offset: 24, format: 'float32' },
  ],
};

/** The device's scene pipelines, compiled on first use (render pipelines lazily, per target format). */
export function scenePipelines(dev: GPUDevice): ScenePipelines {
  const known = perDevice.get(dev);
  if (known) return known;
  const sceneLayout = dev.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: STAGE.VERTEX | STAGE.FRAGMENT, buffer: { type: 'uniform' } },
      { binding: 1, visibility: STAGE.VERTEX | STAGE.FRAGMENT, buffer: { type: 'read-only-storage' } },
    ],
  });
  const shadowLayout = dev.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: STAGE.FRAGMENT, texture: { sampleType: 'depth' } },
      { binding: 1, visibility: STAGE.FRAGMENT, sampler: { type: 'comparison' } },
    ],
  });
  const pipelineLayout = dev.createPipelineLayout({ bindGroupLayouts: [sceneLayout, shadowLayout] });
  const module = dev.createShaderModule({ code: SCENE_WGSL, label: 'SceneRenderer' });
  const scene = (format: GPUTextureFormat, entryPoint: 'fsColor' | 'fsGeomId') =>
    dev.createRenderPipeline({
      label: `SceneRenderer ${entryPoint} ${format}`,
      layout: pipelineLayout,
      vertex: { module, entryPoint: 'vsScene', buffers: [VERTEX_LAYOUT] },
      fragment: { module, entryPoint, targets: [{ format }] },
      primitive: { topology: 'triangle-list', cullMode: 'back', frontFace: 'ccw' },
      // Reversed Z: nearer is larger.
      depthStencil: { format: 'depth32float', depthWriteEnabled: true, depthCompare: 'greater' },
    });
  const colors = new Map<GPUTextureFormat, GPURenderPipeline>();
  let ids: GPURenderPipeline | null = null;
  const shared: ScenePipelines = {
    sceneLayout,
    shadowLayout,
    shadowSampler: dev.createSampler({ compare: 'less-equal', magFilter: 'linear', minFilter: 'linear' }),
    shadowPipeline: dev.createRenderPipeline({
      label: 'SceneRenderer shadow',
      layout: dev.createPipelineLayout({ bindGroupLayouts: [sceneLayout] }),
      vertex: { module, entryPoint: 'vsShadow', buffers: [VERTEX_LAYOUT] },
      primitive: { topology: 'triangle-list', cullMode: 'none' },
      depthStencil: {
        format: 'depth32float',
        depthWriteEnabled: true,
        depthCompare: 'less',
        depthBias: 2,
        depthBiasSlopeScale: 2,
      },
    }),
    color(format) {
      let p = colors.get(format);
      if (!p) {
        p = scene(format, 'fsColor');
        colors.set(format, p);
      }
      return p;
    },
    geomIds() {
      ids ??= scene('r32uint', 'fsGeomId');
      return ids;
    },
  };
  perDevice.set(dev, shared);
  return shared;
}
