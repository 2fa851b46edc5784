/** Text rendering of an OOD report (shared by calibrate and evaluate). */
import { formatTable } from './common';
import type { OodReport, ScoreMetrics } from '../gate/ood-report';

export function formatOodReport(r: OodReport, gateLabel = 'gate'): string {
  const row = (name: string, m: ScoreMetrics) => [name, m.auroc, m.aupr, m.fpr95, m.acceptRejectAccuracy, m.digitAcceptRate, m.adversaryRejectRate];
  const table = formatTable(
    ['score', 'AUROC', 'AUPR', 'FPR@95', 'acc/rej acc', 'digits accepted', 'adversary rejected'],
    [row(gateLabel, r.ood), ...Object.entries(r.scores).map(([k, m]) => row(k, m))],
  );
  return [
    `digits ${r.digits} (accuracy ${r.digitAccuracy.toFixed(4)}, accepted-digit accuracy ${r.acceptedDigitAccuracy.toFixed(4)}, ECE ${r.digitEce.toFixed(4)}); adversary ${r.adversary}`,
    `invalid-input (sanity check): ${r.ood.invalidDigits} digits, ${r.ood.invalidAdversary} adversary images`,
    table,
    `(simple scores: threshold chosen on these digits for the same acceptance rate; the gate uses its stored threshold)`,
  ].join('\n');
}

export function progressPrinter(err: (t: string) => void): (what: string, done: number, total: number) => void {
  let last = 0;
  return (what, done, total) => {
    const now = Date.now();
    if (now - last > 10000 || done === total) {
      last = now;
      err(`sampling ${what}: ${done}/${total} images`);
    }
  };
}
