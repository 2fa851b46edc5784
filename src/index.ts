/**
 * udq as a library. Everything the CLI does goes through these functions; the CLI itself
 * (src/cli/) only parses arguments. See README "Library" for an example.
 */

// a model with its gate, scoring pictures (the CLI's `predict`)
export { loadUdq, Udq } from './library';
export type { LoadUdqOptions, UdqPredictOptions } from './library';
export { predictFiles, collectPictureFiles, scorePredictions, mnistPixels, PICTURE_EXTENSIONS } from './predict/predict';
export type { Prediction, PictureInput, PredictOptions, Verdict } from './predict/predict';
export { predictNumbers } from './predict/number';

// models, engines and backends
export { initBackend, currentBackend, BACKENDS } from './engine/backend';
export type { BackendInfo, BackendName } from './engine/backend';
export { pickEngine, ENGINES } from './engine/engine';
export type { EngineInfo, EngineName } from './engine/engine';
export { buildModel, buildBasic, buildDeep, ARCHS } from './models/architectures';
export type { Arch } from './models/architectures';
export { loadModel, readManifest, saveModelFiles, writeManifest } from './models/store';
export type { ModelManifest, LoadedModel } from './models/store';
export { findDefaultModelDir } from './models/default-dir';
export { loadPredictor, withViews } from './uq/predictor';
export type { Predictor, LoadPredictorOptions } from './uq/predictor';

// MC-dropout sampling and its features
export { sampleMcDropout } from './uq/mc-dropout';
export { sampleAdaptive, canSampleAdaptive, adaptiveRounds, isSettled, leaveOneOutSummaries, ADAPTIVE_Z } from './uq/adaptive';
export type { AdaptiveOptions, AdaptiveResult, VerdictGate } from './uq/adaptive';
export { parseView, parseViews, viewsSpec, applyView, viewPasses, viewSeed, sampleThroughViews } from './uq/views';
export type { View } from './uq/views';
export { parseShard, takeShard, shardOf } from './predict/shard';
export { mergeJsonl, parseJsonl } from './predict/jsonl';
export type { McInput, McOptions, McResult, SamplerMethod, BnMode } from './uq/mc-dropout';
export { OrtSampler } from './uq/ort-sampler';
export { summariseSamples, featureVector, featureNames, FEATURE_SET_NAMES } from './uq/features';
export type { SampleSummary, FeatureSetName } from './uq/features';
export { fillDropoutMask, maskUniform } from './uq/masks';

// the reject gate
export { calibrateGate, DEFAULT_FEATURES } from './gate/calibrate';
export type { CalibrateOptions, CalibrationResult } from './gate/calibrate';
export { fitLogistic as fitRejectGate, fitLogistic, predictProba, chooseThreshold } from './gate/logistic';
export type { LogisticModel } from './gate/logistic';
export { readGate, writeGate, gatePath } from './gate/gate-file';
export type { GateFile } from './gate/gate-file';
export { evaluateGate } from './gate/evaluate-gate';
export { checkInput, checkPicture, imageStatistics, mnistSanityThresholds } from './gate/sanity';

// metrics
export { auroc, aupr, fprAtTpr, fpr95, accuracy, acceptRejectRates, balancedAcceptRejectAccuracy, acceptedAccuracy, ece, rocCurve, accuracyRejectionCurve } from './gate/metrics';

// data: IDX files, datasets, pictures
export { parseIdx, encodeIdx, readIdx, writeIdx, readIdxImages, readIdxLabels } from './data/idx';
export type { IdxArray, IdxType, ImageSet } from './data/idx';
export { loadMnist } from './data/mnist';
export { listSources, getSource, loadAdversary, concatSets } from './data/sources';
export type { LabelledImages, Split } from './data/types';
export { loadImageAsMnist, loadNumberAsMnist, preprocessToMnist, saveMnistPng, decodePicture } from './image/load';

// training and export
export { runTrain as train, runTrainEnsemble as trainEnsemble } from './train/run';
export type { TrainCommandOptions as TrainOptions, TrainSummary, EnsembleTrainSummary } from './train/run';
export { exportOnnx } from './onnx/export';
export type { ExportResult } from './onnx/export';

// errors (each with the CLI's exit code) and output
export { UdqError, UsageError, DataError, ModelError, BackendError, NetworkError, ImageError, ExistsError, ExitCode } from './errors';
export { processIo, silentIo } from './io';
export type { Io } from './io';
export { VERSION } from './version';
