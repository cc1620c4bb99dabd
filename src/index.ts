// Package entry for Node: the kernels, GPU access through Dawn, the graph, the model and training.
export * from './kernels/index.js';
export * from './gpu/device.js';
export { Engine, Plan, type EngineOptions } from './graph/engine.js';
export { Tensor, type Shape, type DType } from './graph/tensor.js';
export { backward } from './graph/tape.js';
export { ParamRegistry } from './graph/params.js';
export { PattLite, type PattLiteConfig, type AttentionMode } from './model/patt-lite.js';
export { mobileNet } from './model/mobilenet.js';
export { createPredictor } from './model/inference.js';
export { loadModel, saveModel, exportKerasModel } from './model/weights.js';
export { Trainer, type TrainConfig, type SplitData, type EpochLog } from './train/trainer.js';
export { runTraining, HEAD_DEFAULTS, FINETUNE_OVERRIDES, type RunSettings } from './train/run.js';
export { loadDataset } from './data/load.js';
