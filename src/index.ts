// Package entry for Node: the kernels plus GPU access through Dawn.
export * from './kernels/index.js';
export * from './gpu/device.js';
