/** `udq data verify omniglot-dev`: the vendored zip's sha256 and image count. */
import { hashFile } from './fetch';
import { report, VerifyReport } from './dataset-dir';
import { OMNIGLOT_COUNT, OMNIGLOT_DEV, omniglotZipPath, readOmniglotZip } from './omniglot';

/** sha256 of the zip as published in shared/data/README.md. */
export const OMNIGLOT_ZIP_SHA256 = '2f309fa917b8de65e475f4964374d7945f3a349e88879411fe98206bb652724f';

export async function verifyOmniglot(dataDir: string): Promise<VerifyReport> {
  const zip = omniglotZipPath(dataDir);
  if (!zip) return report(OMNIGLOT_DEV, null, [{ target: 'omniglot-dev.zip', ok: false, detail: 'missing' }]);
  const digest = await hashFile(zip);
  const shaOk = digest.sha256 === OMNIGLOT_ZIP_SHA256;
  let count = 0;
  let readError: string | null = null;
  try {
    count = (await readOmniglotZip(zip)).length;
  } catch (e) {
    readError = (e as Error).message;
  }
  return report(OMNIGLOT_DEV, zip, [
    { target: 'omniglot-dev.zip sha256', ok: shaOk, detail: shaOk ? 'matches' : `is ${digest.sha256}, expected ${OMNIGLOT_ZIP_SHA256}` },
    { target: 'omniglot-dev.zip images', ok: readError === null && count === OMNIGLOT_COUNT, detail: readError ?? `${count} PNG images (expected ${OMNIGLOT_COUNT})` },
  ]);
}
