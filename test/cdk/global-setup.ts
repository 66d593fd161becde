import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh folder per run for the synthesized templates the CDK tests share across workers
 * (test/cdk/helpers.ts `synthesize`); jest's workers inherit the variable. A new folder each run, so
 * a template never outlives the sources it was made from.
 */
export default function globalSetup(): void {
  process.env.CDK_TEMPLATE_CACHE = mkdtempSync(join(tmpdir(), 'device-manager-cdk-'));
}
