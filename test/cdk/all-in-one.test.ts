/**
 * Every CDK test file of this folder, run in one jest module registry so that they share the
 * syntheses of test/cdk/helpers.ts (`synthesize` keeps each settings profile's construct tree and
 * template for the registry; in separate files each rebuilt the trees it used). Each file runs inside
 * its own `describe`, so its hooks stay its own. `npm test` runs this file instead of the files one by
 * one (jest.config.js); `CDK_TEST_FILES=each npx jest test/cdk/<file>` runs one file alone.
 */
import { readdirSync } from 'node:fs';

const files = readdirSync(__dirname)
  .filter((name) => name.endsWith('.test.ts') && !name.endsWith('.soak.test.ts') && name !== 'all-in-one.test.ts')
  .sort();

for (const name of files)
  describe(name, () => {
    require(`./${name}`);
  });
