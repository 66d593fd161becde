/**
 * The engine patches dynalite's internals (packages/local-engine/README.md): a dynalite upgrade that
 * moves one must fail loudly, naming it, and the README must list every internal the check knows.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  checkInternals,
  checkStore,
  DYNALITE_VERSION,
  DynaliteInternalsMovedError,
  installedDynalite,
  INTERNALS,
  type DynaliteModules,
} from '@device-manager/local-engine/internals';

const PACKAGE = path.resolve(__dirname, '..', '..', '..', 'packages', 'local-engine');

/** A copy of the installed modules with one change applied. */
function altered(change: (m: DynaliteModules) => void): DynaliteModules {
  const m = installedDynalite();
  const copy: DynaliteModules = { ...m, db: { ...m.db }, sources: { ...m.sources } };
  change(copy);
  return copy;
}

function movedOf(modules: DynaliteModules): string[] {
  try {
    checkInternals(modules);
  } catch (err) {
    expect(err).toBeInstanceOf(DynaliteInternalsMovedError);
    expect((err as Error).message).toContain('packages/local-engine/README.md');
    return (err as DynaliteInternalsMovedError).moved;
  }
  return [];
}

describe('dynalite internals', () => {
  it('are all where the engine expects them in the installed dynalite, the pinned version', () => {
    expect(movedOf(installedDynalite())).toEqual([]);
    const pkg = JSON.parse(readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies.dynalite).toBe(DYNALITE_VERSION);
  });

  it.each<[string, (m: DynaliteModules) => void, string]>([
    ['another version', (m) => (m.version = '4.1.0'), 'dynalite version (internals.ts)'],
    ['db.updateIndexes renamed', (m) => delete m.db.updateIndexes, 'db.updateIndexes (change-feed.ts)'],
    [
      'a write action that reads before it locks',
      (m) => {
        m.sources['actions/putItem.js'] = m.sources['actions/putItem.js']!.replace(
          /itemDb\.lock\(key, function \(release\) \{\s*cb = release\(cb\)/,
          'itemDb.lock(key, function (release) {\n      cb = release(cb)\n      audit(key)',
        );
      },
      'per-table lock, then get, in the write actions (conflicts.ts, transactions.ts)',
    ],
    [
      'Query no longer going through db.queryTable',
      (m) => {
        m.sources['actions/query.js'] = m.sources['actions/query.js']!.replace('db.queryTable(', 'queryTable(');
      },
      'db.queryTable (called through the module by Query) (index-lag.ts)',
    ],
    [
      'the store created another way',
      (m) => (m.sources['index.js'] = m.sources['index.js']!.replace('db.create(options)', 'createStore(options)')),
      'dynalite() creates its store with db.create (index.ts)',
    ],
  ])('fail the start loudly when %s', (_label, change, expected) => {
    expect(movedOf(altered(change))).toEqual([expected]);
  });

  it('include the store a start captures', () => {
    expect(() => checkStore({ getTable() {}, getItemDb() {}, getIndexDb() {}, db: {}, tableDb: {} })).toThrow(
      DynaliteInternalsMovedError,
    );
    let moved: string[] = [];
    expect(() => {
      try {
        checkStore({ getTable() {}, getItemDb() {}, db: { open() {} }, tableDb: { get() {}, put() {}, del() {} } });
      } catch (err) {
        moved = (err as DynaliteInternalsMovedError).moved;
        throw err;
      }
    }).toThrow(DynaliteInternalsMovedError);
    expect(moved).toEqual(
      ['store.getIndexDb', 'store.db.get', 'store.db.put', 'store.db.batch', 'store.db.getMany', 'store.db.close'].map(
        (name) => `${name} (the store)`,
      ),
    );
  });

  it('are each listed in the package README', () => {
    const readme = readFileSync(path.join(PACKAGE, 'README.md'), 'utf8').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    const listed = INTERNALS.filter(({ name, usedBy }) => readme.includes(`| ${name}`) && readme.includes(usedBy));
    expect(listed.map(({ name }) => name)).toEqual(INTERNALS.map(({ name }) => name));
  });
});
