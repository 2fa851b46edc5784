/** Shared by `udq evaluate`: MNIST test accuracy of a saved model or ensemble (dropout off). */
import { loadMnist } from '../data/mnist';
import { loadModel } from '../models/store';
import { isEnsembleDir, loadEnsemble } from '../models/ensemble';
import { averageProbabilities } from '../uq/ensemble';
import { classificationReport, ClassificationReport, predictProbabilities } from '../train/evaluate';

export interface DigitEvaluation extends ClassificationReport {
  modelDir: string;
  arch: string;
  kind: 'model' | 'ensemble';
  /** of the averaged softmax, for an ensemble */
  testAccuracy: number;
  /** ensembles: each member's own accuracy on the same images */
  memberAccuracy?: number[];
}

export async function evaluateDigits(modelDir: string, limit?: number): Promise<DigitEvaluation> {
  const test = loadMnist('test', limit);
  if (isEnsembleDir(modelDir)) {
    const { members, manifest, dir } = await loadEnsemble(modelDir);
    const probs = members.map((m) => predictProbabilities(m, test.images));
    members.forEach((m) => m.dispose());
    const memberAccuracy = probs.map((p) => classificationReport(p, test.labels!, test.classNames!).accuracy);
    const report = classificationReport(averageProbabilities(probs), test.labels!, test.classNames!);
    return { modelDir: dir, arch: manifest.arch, kind: 'ensemble', testAccuracy: report.accuracy, memberAccuracy, ...report };
  }
  const { model, manifest, dir } = await loadModel(modelDir);
  const report = classificationReport(predictProbabilities(model, test.images), test.labels!, test.classNames!);
  model.dispose();
  return { modelDir: dir, arch: manifest.arch, kind: 'model', testAccuracy: report.accuracy, ...report };
}
