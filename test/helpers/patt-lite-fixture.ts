// A PAtt-Lite model as the authors' notebook saves it with `model.save('model.h5')` (TF 2.x):
// root attrs model_config / keras_version / backend / training_config, weights under
// model_weights/ with nested models as one group each. Inner layer names carry the suffixes a
// reused Keras session gives them, and the backbone lists its weights trainable-first (the
// fine-tune state), so the importer must map by name and position, not by luck.

import type { WeightSpec } from '../../src/io/weight-specs.js';
import { h5, strAttr, writeLegacyLayers, type LegacyLayer, type K3Layer } from './keras-fixtures.js';

/** Auto-names as a reused Keras session would give them (note the suffixes). */
export const SESSION_NAMES: Record<string, string> = {
  patch_sepconv_1: 'separable_conv2d_2',
  patch_sepconv_2: 'separable_conv2d_3',
  patch_conv: 'conv2d_1',
  pre_dense: 'dense_4',
  pre_bn: 'batch_normalization_4',
};

const lyr = (className: string, name: string, config: Record<string, unknown> = {}) => ({
  class_name: className,
  config: { name, trainable: true, dtype: 'float32', ...config },
  name,
  inbound_nodes: [],
});

/** A TF 2.x style model_config for the notebook's fine-tune model. */
export function pattLiteModelConfig(specs: readonly WeightSpec[], classes: number): string {
  const backboneLayers: unknown[] = [lyr('InputLayer', 'input_1', { batch_input_shape: [null, 224, 224, 3] })];
  for (const s of specs.filter((x) => x.group === 'base_model' && x.weight !== 'beta')) {
    if (s.weight === 'moving_mean' || s.weight === 'moving_variance') continue;
    if (s.kerasClass === 'BatchNormalization') {
      backboneLayers.push(lyr('BatchNormalization', s.layer, { epsilon: 0.001, momentum: 0.99 }));
      backboneLayers.push(lyr('ReLU', s.layer.replace(/_bn$/, '_relu'), { max_value: 6 }));
    } else {
      backboneLayers.push(lyr(s.kerasClass, s.layer, { filters: s.shape[3], use_bias: false }));
    }
  }
  const model = {
    class_name: 'Functional',
    config: {
      name: 'finetune-backbone',
      layers: [
        lyr('InputLayer', 'universal_input', { batch_input_shape: [null, 224, 224, 3] }),
        lyr('Resizing', 'resize', { height: 224, width: 224, interpolation: 'bilinear' }),
        { class_name: 'Sequential', config: { name: 'augmentation', layers: [
          lyr('RandomFlip', 'random_flip', { mode: 'horizontal' }),
          lyr('RandomContrast', 'random_contrast', { factor: 0.3 }),
        ] }, name: 'augmentation', inbound_nodes: [] },
        lyr('TFOpLambda', 'tf.math.truediv', { function: 'math.truediv' }),
        lyr('TFOpLambda', 'tf.math.subtract', { function: 'math.subtract' }),
        { class_name: 'Functional', config: {
          name: 'base_model', layers: backboneLayers,
          input_layers: [['input_1', 0, 0]], output_layers: [['conv_dw_9_relu', 0, 0]],
        }, name: 'base_model', inbound_nodes: [] },
        { class_name: 'Sequential', config: { name: 'patch_extraction', layers: [
          lyr('SeparableConv2D', SESSION_NAMES.patch_sepconv_1, { filters: 256, kernel_size: [4, 4], strides: [4, 4], padding: 'same', activation: 'relu' }),
          lyr('SeparableConv2D', SESSION_NAMES.patch_sepconv_2, { filters: 256, kernel_size: [2, 2], strides: [2, 2], padding: 'valid', activation: 'relu' }),
          lyr('Conv2D', SESSION_NAMES.patch_conv, { filters: 256, kernel_size: [1, 1], activation: 'relu' }),
        ] }, name: 'patch_extraction', inbound_nodes: [] },
        lyr('SpatialDropout2D', 'spatial_dropout2d', { rate: 0.2 }),
        lyr('GlobalAveragePooling2D', 'gap'),
        lyr('Dropout', 'dropout_1', { rate: 0.2 }),
        { class_name: 'Sequential', config: { name: 'pre_classification', layers: [
          lyr('Dense', SESSION_NAMES.pre_dense, { units: 32, activation: 'relu' }),
          lyr('BatchNormalization', SESSION_NAMES.pre_bn, { epsilon: 0.001 }),
        ] }, name: 'pre_classification', inbound_nodes: [] },
        lyr('Attention', 'attention', { use_scale: true, score_mode: 'dot' }),
        lyr('Dropout', 'dropout_2', { rate: 0.2 }),
        lyr('Dense', 'classification_head', { units: classes, activation: 'softmax' }),
      ],
      input_layers: [['universal_input', 0, 0]],
      output_layers: [['classification_head', 0, 0]],
    },
  };
  return JSON.stringify(model);
}

/** The model_weights groups of the saved model. */
export function pattLiteLegacyLayers(specs: readonly WeightSpec[], values: Map<string, Float32Array>): LegacyLayer[] {
  const group = (name: string, list: WeightSpec[]): LegacyLayer => ({
    name,
    weights: list.map((s) => ({
      name: `${s.group === s.layer ? s.layer : SESSION_NAMES[s.layer] ?? s.layer}/${s.weight}:0`,
      shape: [...s.shape],
      data: values.get(`${s.layer}/${s.weight}`)!,
    })),
  });
  const of = (g: string) => specs.filter((s) => s.group === g);
  const isBn = (s: WeightSpec) => s.kerasClass === 'BatchNormalization';
  // Fine-tune state: backbone convs trainable, BNs frozen -> trainable weights first.
  const base = [...of('base_model').filter((s) => !isBn(s)), ...of('base_model').filter(isBn)];
  const empty = (name: string): LegacyLayer => ({ name, weights: [] });
  return [
    empty('universal_input'), empty('resize'), empty('augmentation'), empty('tf.math.truediv'),
    empty('tf.math.subtract'), group('base_model', base), group('patch_extraction', of('patch_extraction')),
    empty('spatial_dropout2d'), empty('gap'), empty('dropout_1'),
    group('pre_classification', of('pre_classification')), group('attention', of('attention')),
    empty('dropout_2'), group('classification_head', of('classification_head')),
  ];
}

export async function writePattLiteModelH5(
  path: string,
  specs: readonly WeightSpec[],
  values: Map<string, Float32Array>,
  classes: number,
): Promise<void> {
  const h = await h5();
  const f = new h.File(path, 'w');
  const cfg = pattLiteModelConfig(specs, classes);
  f.create_attribute('model_config', cfg);
  f.create_attribute('keras_version', '2.10.0', [], 'A6');
  f.create_attribute('backend', 'tensorflow', [], 'A10');
  f.create_attribute('training_config', JSON.stringify({ loss: 'sparse_categorical_crossentropy' }));
  const mw = f.create_group('model_weights');
  writeLegacyLayers(mw, pattLiteLegacyLayers(specs, values));
  const opt = f.create_group('optimizer_weights');
  strAttr(opt, 'weight_names', []);
  f.close();
}

/** Keras 3 layer tree of the same model (class-counter names, nested containers). */
export function pattLiteKeras3Layers(specs: readonly WeightSpec[], values: Map<string, Float32Array>): K3Layer[] {
  const out: K3Layer[] = [
    { path: 'layers/input_layer', vars: [] },
    { path: 'layers/sequential', vars: [] }, // augmentation
    { path: 'layers/sequential/layers/random_flip', vars: [] },
  ];
  const containers: Record<string, string> = {
    base_model: 'layers/functional',
    patch_extraction: 'layers/sequential_1',
    pre_classification: 'layers/sequential_2',
  };
  const counters = new Map<string, number>();
  const snake: Record<string, string> = {
    Conv2D: 'conv2d', DepthwiseConv2D: 'depthwise_conv2d', SeparableConv2D: 'separable_conv2d',
    BatchNormalization: 'batch_normalization', Dense: 'dense', Attention: 'attention',
  };
  for (const c of Object.values(containers)) out.push({ path: c, vars: [] });
  for (const s of specs) {
    const container = containers[s.group] ?? 'layers';
    let l = out.find((x) => (x as K3Layer & { layer?: string }).layer === s.layer) as
      | (K3Layer & { layer?: string })
      | undefined;
    if (!l) {
      const key = `${container}:${snake[s.kerasClass]}`;
      const k = counters.get(key) ?? 0;
      counters.set(key, k + 1);
      const name = k === 0 ? snake[s.kerasClass] : `${snake[s.kerasClass]}_${k}`;
      const prefix = container === 'layers' ? 'layers' : `${container}/layers`;
      l = { path: `${prefix}/${name}`, vars: [], layer: s.layer };
      out.push(l);
    }
    l.vars.push({ shape: [...s.shape], data: values.get(`${s.layer}/${s.weight}`)! });
  }
  return out;
}
