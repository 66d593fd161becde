/**
 * The layering of docs/architecture.md (Layers), enforced: the domain and the use cases know nothing of AWS, middy or
 * Lambda events; the domain does not reach into the use cases, adapters or handlers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [
    ...text.matchAll(
      /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(['"]([^'"]+)['"]\)|require\(['"]([^'"]+)['"]\)/g,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

const FORBIDDEN_OUTSIDE_ADAPTERS = [/^@aws-sdk\//, /^@middy\//, /^aws-lambda$/, /^@aws-lambda-powertools\//];

describe('layers', () => {
  it.each([...sources('functions/domain'), ...sources('functions/app')])(
    '%s imports no AWS SDK, middy, Lambda types or Powertools',
    (file) => {
      const bad = importsOf(file).filter((spec) => FORBIDDEN_OUTSIDE_ADAPTERS.some((re) => re.test(spec)));
      expect(bad).toEqual([]);
    },
  );

  it.each(sources('functions/domain'))(
    '%s (domain) does not import use cases, adapters, handlers or the edge',
    (file) => {
      const bad = importsOf(file).filter(
        (spec) =>
          /\/(app|adapters|handlers|http|runtime|composition|openapi|lamassu)\//.test(`${spec}/`) &&
          spec.startsWith('.'),
      );
      expect(bad).toEqual([]);
    },
  );

  it.each(sources('functions/app'))('%s (use cases) does not import adapters or handlers', (file) => {
    const bad = importsOf(file).filter((spec) => spec.startsWith('.') && /(adapters|handlers)\//.test(spec));
    expect(bad).toEqual([]);
  });

  it('finds the files it checks (the check itself can fail)', () => {
    expect(sources('functions/domain').length).toBeGreaterThan(5);
    expect(importsOf('functions/adapters/dynamodb/client.ts')).toContain('@aws-sdk/client-dynamodb');
  });
});
