import { rmSync } from 'node:fs';

/** Removes the run's template folder (test/cdk/global-setup.ts). */
export default function globalTeardown(): void {
  const folder = process.env.CDK_TEMPLATE_CACHE;
  if (folder) rmSync(folder, { recursive: true, force: true });
}
