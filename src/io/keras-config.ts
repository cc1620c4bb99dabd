// Architecture facts read from a Keras model config: `model_config` of a TF 2.x `model.save`
// HDF5 file, or `config.json` of a Keras 3 `.keras` archive. Both nest as
// {class_name, config: {name, layers: [{class_name, config: {name, …}}, …]}}; nested models
// (Functional, Model, Sequential) carry their own `layers`.

export interface KerasLayerInfo {
  className: string;
  name: string;
  /** Names of the nested models that contain it, outermost first. */
  parents: string[];
  config: Record<string, unknown>;
}

export interface KerasModelFacts {
  modelName?: string;
  /** Input shape without the batch axis, e.g. [224, 224, 3]; null dims unknown. */
  inputShape?: (number | null)[];
  /** Number of classes of the final classifier (Dense units or conv_preds filters). */
  classes?: number;
  classifierActivation?: string;
  /** The nested model holding MobileNet's `conv1`, if any. */
  backbone?: { name: string; outputLayer?: string; layerCount: number; alpha?: number };
  /** Keras Attention layer, if present. */
  attention?: { name: string; useScale: boolean; scoreMode?: string };
  /** Dropout rates in model order (top level and nested). */
  dropoutRates: number[];
  spatialDropoutRates: number[];
  /** Every layer, flattened depth-first. */
  layers: KerasLayerInfo[];
}

type Json = Record<string, unknown>;
const NESTED = new Set(['Functional', 'Model', 'Sequential']);

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function layerList(cfg: Json): Json[] {
  const inner = isObj(cfg.config) ? cfg.config : undefined;
  const layers = inner?.layers;
  return Array.isArray(layers) ? layers.filter(isObj) : [];
}

function nameOf(layer: Json): string {
  const c = isObj(layer.config) ? layer.config : {};
  return String(c.name ?? layer.name ?? '');
}

function flatten(cfg: Json, parents: string[], out: KerasLayerInfo[], depth: number): void {
  if (depth > 16) throw new Error('model config nests deeper than 16 models');
  for (const l of layerList(cfg)) {
    const className = String(l.class_name ?? '');
    const config = isObj(l.config) ? l.config : {};
    out.push({ className, name: nameOf(l), parents, config });
    if (NESTED.has(className)) flatten(l, [...parents, nameOf(l)], out, depth + 1);
  }
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Parses a model config (JSON text or object) into the facts the importer needs. */
export function modelFacts(config: string | unknown): KerasModelFacts {
  let cfg: unknown = config;
  if (typeof config === 'string') {
    try {
      cfg = JSON.parse(config);
    } catch (e) {
      throw new Error(`model config is not valid JSON (${(e as Error).message})`);
    }
  }
  if (!isObj(cfg)) throw new Error('model config is not a JSON object');
  const layers: KerasLayerInfo[] = [];
  flatten(cfg, [], layers, 0);
  const inner = isObj(cfg.config) ? cfg.config : {};
  const facts: KerasModelFacts = {
    modelName: typeof inner.name === 'string' ? inner.name : undefined,
    dropoutRates: [],
    spatialDropoutRates: [],
    layers,
  };

  const top = layers.filter((l) => l.parents.length === 0);
  const input = top.find((l) => l.className === 'InputLayer');
  const shape = input?.config.batch_input_shape ?? input?.config.batch_shape;
  if (Array.isArray(shape)) facts.inputShape = shape.slice(1).map((d) => num(d) ?? null);

  const conv1 = layers.find((l) => l.name === 'conv1' && l.className === 'Conv2D');
  if (conv1) {
    const name = conv1.parents[conv1.parents.length - 1] ?? facts.modelName ?? '';
    const members = layers.filter((l) => l.parents[l.parents.length - 1] === name);
    const nested = layers.find((l) => l.name === name && NESTED.has(l.className));
    const nestedCfg = nested ? nested.config : inner;
    const outs = nestedCfg.output_layers;
    let outputLayer = members[members.length - 1]?.name;
    if (Array.isArray(outs) && Array.isArray(outs[0])) outputLayer = String(outs[0][0]);
    const filters = num(conv1.config.filters);
    facts.backbone = {
      name,
      outputLayer,
      layerCount: members.length,
      alpha: filters === undefined ? undefined : filters / 32,
    };
  }

  const att = layers.find((l) => l.className === 'Attention');
  if (att) {
    facts.attention = {
      name: att.name,
      useScale: att.config.use_scale === true,
      scoreMode: typeof att.config.score_mode === 'string' ? att.config.score_mode : undefined,
    };
  }

  for (const l of layers) {
    const rate = num(l.config.rate);
    if (l.className === 'Dropout' && rate !== undefined) facts.dropoutRates.push(rate);
    if (l.className === 'SpatialDropout2D' && rate !== undefined) facts.spatialDropoutRates.push(rate);
  }

  // The classifier: the last top-level Dense (PAtt-Lite 'classification_head'), else
  // MobileNet's conv_preds.
  const dense = [...top].reverse().find((l) => l.className === 'Dense');
  const preds = layers.find((l) => l.name === 'conv_preds');
  if (dense && num(dense.config.units) !== undefined) {
    facts.classes = num(dense.config.units);
    facts.classifierActivation = activationName(dense.config.activation);
  } else if (preds && num(preds.config.filters) !== undefined) {
    facts.classes = num(preds.config.filters);
    const act = layers.find((l) => l.name === 'predictions');
    facts.classifierActivation = act ? activationName(act.config.activation) : undefined;
  }
  return facts;
}

function activationName(a: unknown): string | undefined {
  if (typeof a === 'string') return a;
  if (isObj(a) && typeof a.config === 'object') return String((a.config as Json).name ?? '');
  return undefined;
}
