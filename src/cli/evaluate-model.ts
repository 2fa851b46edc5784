/** Shared by `udq evaluate`: MNIST test accuracy of a saved model (dropout off). */
import { loadMnist } from '../data/mnist';
import { loadModel } from '../models/store';
import { classificationReport, ClassificationReport, predictProbabilities } from '../train/evaluate';

export interface DigitEvaluation extends ClassificationReport {
  modelDir: string;
  arch: string;
  testAccuracy: number;
}

export async function evaluateDigits(modelDir: string, limit?: number): Promise<DigitEvaluation> {
  const { model, manifest, dir } = await loadModel(modelDir);
  const test = loadMnist('test', limit);
  const report = classificationReport(predictProbabilities(model, test.images), test.labels!, test.classNames!);
  model.dispose();
  return { modelDir: dir, arch: manifest.arch, testAccuracy: report.accuracy, ...report };
}
