// The standalone kernel library: everything here needs only a GPUDevice (Node or browser).
export * from './runtime.js';
export * from './dispatch.js';
export * from './elementwise.js';
