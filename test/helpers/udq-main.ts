/** The udq CLI from source, for tests that need it as a separate process (`udq serve`). */
import { main } from '../../src/cli/index';

main(process.argv).then((code) => {
  process.exitCode = code;
});
