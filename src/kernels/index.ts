// The standalone kernel library: everything here needs only a GPUDevice (Node or browser).
export * from './runtime.js';
export * from './dispatch.js';
export * from './elementwise.js';
export * from './input.js';
export * from './attention.js';
export * from './reduce.js';
export * from './optimizer.js';
export * from './batchnorm.js';
export * from './batchnorm-fold.js';
export * from './pool.js';
export * from './dropout.js';
export * from './softmax.js';
export * from './loss.js';
export * from './padding.js';
export * from './conv2d.js';
export {
  createDepthwise, DEPTHWISE_CONSTANTS, depthwiseGeometry, packDepthwiseParams, type Depthwise, type DepthwiseShape,
} from './depthwise.js';
export * from './pad.js';
export { createMatmul, MATMUL_VARIANTS, MATMUL_TILES, type Matmul, type MatmulShape, type MatmulVariant, type MatmulBuffers, type MatmulOptions } from './matmul.js';
export * from './matmul-autotune.js';
export { settle } from './wait.js';
