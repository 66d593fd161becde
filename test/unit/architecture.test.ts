/**
 * The layering of docs/architecture.md (Layers), enforced: the domain and the use cases know nothing of AWS, middy or
 * Lambda events; each folder under functions/ imports only the layers its row allows; no handler is imported.
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

/**
 * The layers of docs/architecture.md (Layers): the folders under functions/ each folder may import besides its
 * own. No cycle between the use cases and the edge: app/ imports no edge folder; and nothing but local/ and
 * the CDK bundling imports a handler (below).
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  domain: [],
  app: ['domain'],
  adapters: ['domain', 'app'],
  runtime: ['domain'],
  http: ['domain', 'runtime'],
  // The publisher's composition root translates outbox records into Lamassu's events (lamassu/events.ts).
  // The import's composition root gives each refused row the API's answer (http/http-errors.ts).
  composition: ['domain', 'app', 'adapters', 'runtime', 'lamassu', 'http'],
  openapi: ['domain', 'runtime', 'http', 'lamassu'],
  // The Lamassu edge: its handlers are composed like the others; its OpenAPI part reuses openapi/'s pieces.
  lamassu: ['domain', 'app', 'runtime', 'http', 'composition', 'openapi'],
  handlers: ['domain', 'app', 'adapters', 'runtime', 'http', 'composition', 'openapi', 'lamassu'],
};

/** The repository-relative path (without extension) of each relative import of `file`. */
const relativeTargets = (file: string, specs: readonly string[]): string[] =>
  specs.filter((spec) => spec.startsWith('.')).map((spec) => path.posix.join(path.posix.dirname(file), spec));

const folderOf = (target: string): string | undefined =>
  target.startsWith('functions/') ? target.split('/')[1] : undefined;

/** The imports of `file` that land in a folder under functions/ its row does not allow. */
function layerViolations(file: string, specs: readonly string[]): string[] {
  const own = folderOf(file) ?? '';
  const allowed = MAY_IMPORT[own] ?? [];
  return relativeTargets(file, specs).filter((target) => {
    const folder = folderOf(target);
    return folder !== undefined && folder !== own && !allowed.includes(folder);
  });
}

/** Lambda entry points: functions/handlers/** and the Lamassu edge's functions/lamassu/handlers/**. */
const isHandler = (file: string): boolean => /^functions\/(handlers|lamassu\/handlers)\//.test(file);

const handlerImports = (file: string, specs: readonly string[]): string[] =>
  relativeTargets(file, specs).filter(isHandler);

const FORBIDDEN_OUTSIDE_ADAPTERS = [/^@aws-sdk\//, /^@middy\//, /^aws-lambda$/, /^@aws-lambda-powertools\//];

describe('layers', () => {
  it.each([...sources('functions/domain'), ...sources('functions/app')])(
    '%s imports no AWS SDK, middy, Lambda types or Powertools',
    (file) => {
      const bad = importsOf(file).filter((spec) => FORBIDDEN_OUTSIDE_ADAPTERS.some((re) => re.test(spec)));
      expect(bad).toEqual([]);
    },
  );

  it.each(Object.keys(MAY_IMPORT).flatMap((folder) => sources(`functions/${folder}`)))(
    '%s imports only its own folder and the layers its row allows',
    (file) => {
      expect(layerViolations(file, importsOf(file))).toEqual([]);
    },
  );

  it.each(sources('functions').filter((file) => !isHandler(file)))(
    '%s imports no handler (handlers are entry points, imported only by local/ and the CDK bundling)',
    (file) => {
      expect(handlerImports(file, importsOf(file))).toEqual([]);
    },
  );

  it('has a row for every folder under functions/', () => {
    const folders = readdirSync(path.join(ROOT, 'functions'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });

  it('the checks can fail: use cases reaching into the edge, the edge reaching into handlers', () => {
    expect(layerViolations('functions/app/ca-revocation.ts', ['../lamassu/events', '../domain/slots'])).toEqual([
      'functions/lamassu/events',
    ]);
    expect(layerViolations('functions/domain/errors.ts', ['../http/http-errors'])).toEqual([
      'functions/http/http-errors',
    ]);
    expect(layerViolations('functions/runtime/config.ts', ['../composition/context'])).toEqual([
      'functions/composition/context',
    ]);
    expect(handlerImports('functions/openapi/openapi.ts', ['../handlers/http/routes', '../http/routes'])).toEqual([
      'functions/handlers/http/routes',
    ]);
    expect(handlerImports('functions/lamassu/openapi.ts', ['./handlers/health'])).toEqual([
      'functions/lamassu/handlers/health',
    ]);
  });

  it('finds the files it checks (the check itself can fail)', () => {
    expect(sources('functions/domain').length).toBeGreaterThan(5);
    expect(importsOf('functions/adapters/dynamodb/client.ts')).toContain('@aws-sdk/client-dynamodb');
  });
});
