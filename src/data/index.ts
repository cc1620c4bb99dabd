// Datasets: image decoding, readers for every supported source, splits and class weights.
export * from './image.js';
export * from './dataset.js';
export { ImageCache, type ImageCacheStats } from './image-cache.js';
export { readFolder, readClassNamesJson, type FileDatasetOptions } from './folder.js';
export { readFer2013, readFerPlus, pluralityLabel, majorityLabel, FER2013_CLASSES, FERPLUS_CLASSES, type FerPlusVote } from './fer2013.js';
export { readRafDb, findRafDbLabelFile, RAFDB_CLASSES, type RafDbOptions } from './raf-db.js';
export { readHdf5, isHdf5File, HDF5_DEFAULT_CLASSES, type Hdf5Options } from './hdf5.js';
export { stratifiedSplit, withValidationSplit, seededRandom } from './split.js';
export { balancedClassWeights, type ClassWeights } from './class-weights.js';
export { loadDataset, detectDatasetKind, parseDatasetKind, type DatasetSpec } from './load.js';
