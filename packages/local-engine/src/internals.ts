/**
 * Every dynalite internal the engine relies on, why, and a check that it is still there.
 *
 * The engine extends dynalite without a fork, so it depends on code dynalite does not export as an
 * API: module members it wraps, the shape of its store, and the order of calls inside its actions.
 * `checkInternals()` runs at every engine start and fails it with one error naming everything that
 * moved, rather than letting a dynalite upgrade corrupt data or silently stop emulating something.
 * The package README lists the same internals (a test keeps the two in step).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const load = createRequire(__filename);

/** The dynalite version these internals were read from (package.json pins it exactly). */
export const DYNALITE_VERSION = '4.0.0';

/** The loaded modules and sources the checks look at; tests hand in altered copies. */
export interface DynaliteModules {
  version: string;
  /** `dynalite/index.js` exports */
  dynalite: unknown;
  db: Record<string, unknown>;
  validations: Record<string, unknown>;
  actions: Record<'putItem' | 'updateItem' | 'deleteItem', unknown>;
  actionValidations: Record<'putItem' | 'updateItem' | 'deleteItem' | 'getItem', unknown>;
  /** Source text by path inside the dynalite package. */
  sources: Record<string, string>;
}

export interface Internal {
  /** How the README names it. */
  name: string;
  /** Which engine file uses it. */
  usedBy: string;
  /** Whether `modules` still have it as the engine expects. */
  check(modules: DynaliteModules): boolean;
}

const SOURCES = [
  'index.js',
  'db/index.js',
  'actions/putItem.js',
  'actions/updateItem.js',
  'actions/deleteItem.js',
  'actions/query.js',
  'validations/index.js',
] as const;

/** The installed dynalite, as the engine loads it. */
export function installedDynalite(): DynaliteModules {
  const sources: Record<string, string> = {};
  for (const file of SOURCES) sources[file] = readFileSync(load.resolve(`dynalite/${file}`), 'utf8');
  return {
    version: (load('dynalite/package.json') as { version: string }).version,
    dynalite: load('dynalite'),
    db: load('dynalite/db') as Record<string, unknown>,
    validations: load('dynalite/validations') as Record<string, unknown>,
    actions: {
      putItem: load('dynalite/actions/putItem'),
      updateItem: load('dynalite/actions/updateItem'),
      deleteItem: load('dynalite/actions/deleteItem'),
    },
    actionValidations: {
      putItem: load('dynalite/validations/putItem'),
      updateItem: load('dynalite/validations/updateItem'),
      deleteItem: load('dynalite/validations/deleteItem'),
      getItem: load('dynalite/validations/getItem'),
    },
    sources,
  };
}

const isFunction = (value: unknown) => typeof value === 'function';
const dbFunction = (name: string) => (m: DynaliteModules) => isFunction(m.db[name]);
/** Every one of the three single-item write actions' sources matches. */
const writeActions = (pattern: RegExp) => (m: DynaliteModules) =>
  ['putItem', 'updateItem', 'deleteItem'].every((a) => pattern.test(m.sources[`actions/${a}.js`] ?? ''));

export const INTERNALS: readonly Internal[] = [
  {
    name: 'dynalite version',
    usedBy: 'internals.ts',
    check: (m) => m.version === DYNALITE_VERSION,
  },
  {
    name: 'dynalite() creates its store with db.create',
    usedBy: 'index.ts',
    check: (m) =>
      isFunction(m.dynalite) && isFunction(m.db.create) && /\bdb\.create\(options\)/.test(m.sources['index.js']!),
  },
  {
    name: 'memory-level MemoryLevel, taken by db/index.js as it loads',
    usedBy: 'dynalite.ts',
    check: (m) =>
      /\{ MemoryLevel \} = require\('memory-level'\)/.test(m.sources['db/index.js'] ?? '') &&
      /new MemoryLevel\(\{ valueEncoding: 'json' \}\)/.test(m.sources['db/index.js'] ?? ''),
  },
  {
    name: "the HTTP server's one request listener",
    usedBy: 'index.ts',
    check: (m) => /http\.createServer\(requestHandler\)/.test(m.sources['index.js'] ?? ''),
  },
  {
    name: 'db.updateIndexes',
    usedBy: 'change-feed.ts',
    check: (m) => dbFunction('updateIndexes')(m) && writeActions(/db\.updateIndexes\(store, table,/)(m),
  },
  {
    name: 'per-table put / del (getItemDb)',
    usedBy: 'change-feed.ts',
    check: (m) =>
      writeActions(/itemDb\.(put|del)\(key,/)(m) && /function getItemDb \(name\)/.test(m.sources['db/index.js'] ?? ''),
  },
  {
    name: 'per-table lock, then get, in the write actions',
    usedBy: 'conflicts.ts, transactions.ts',
    check: (m) =>
      writeActions(/itemDb\.lock\(key, function \(release\) \{\s*cb = release\(cb\)\s*itemDb\.get\(key,/)(m) &&
      /subDbs\[name\]\.lock = lock\.Lock\(\)/.test(m.sources['db/index.js'] ?? ''),
  },
  {
    name: 'key prefixes item- and index-',
    usedBy: 'dynalite.ts',
    check: (m) =>
      /getSubDb\('item-' \+ name\)/.test(m.sources['db/index.js'] ?? '') &&
      /getSubDb\('index-' \+ indexType\.toLowerCase\(\) \+ '~' \+ tableName \+ '~' \+ indexName\)/.test(
        m.sources['db/index.js'] ?? '',
      ),
  },
  {
    name: 'db.checkConditional',
    usedBy: 'index.ts, transactions.ts',
    check: (m) => dbFunction('checkConditional')(m) && writeActions(/db\.checkConditional\(data, \w+\)/)(m),
  },
  {
    name: 'db.itemSize',
    usedBy: 'limits.ts',
    check: dbFunction('itemSize'),
  },
  {
    name: 'db.validateItem / db.validateKey',
    usedBy: 'limits.ts, transactions.ts',
    check: (m) => dbFunction('validateItem')(m) && dbFunction('validateKey')(m),
  },
  {
    name: 'db.createKey, validateUpdates, validateKeyPaths, mapPaths, validationError',
    usedBy: 'keys.ts, transactions.ts',
    check: (m) =>
      ['createKey', 'validateUpdates', 'validateKeyPaths', 'mapPaths', 'validationError'].every((n) =>
        dbFunction(n)(m),
      ),
  },
  {
    name: 'db.hashPrefix and db.toRangeStr (MD5 of "Outliers" and the key)',
    usedBy: 'keys.ts',
    check: (m) =>
      dbFunction('hashPrefix')(m) &&
      dbFunction('toRangeStr')(m) &&
      new RegExp(
        String.raw`crypto\.createHash\('md5'\)\.update\('Outliers'\)\.update\(hashKey\)` +
          String.raw`\.update\(rangeKey\)\.digest\('hex'\)\.slice\(0, 6\)`,
      ).test(m.sources['db/index.js'] ?? ''),
  },
  {
    name: 'db.getIndexActions, as updateIndexes and putItem use it',
    usedBy: 'keys.ts, transactions.ts',
    check: (m) => {
      const source = m.sources['db/index.js'] ?? '';
      return (
        dbFunction('getIndexActions')(m) &&
        /var actions = getIndexActions\(indexes, existingItem, item, table\)/.test(source) &&
        new RegExp(
          String.raw`async\.parallel\(deletes, function \(err\) \{\s*if \(err\) return cb\(err\)\s*` +
            String.raw`async\.parallel\(puts, cb\)`,
        ).test(source) &&
        new RegExp(
          String.raw`db\.checkConditional\(data, existingItem\)[\s\S]*` +
            String.raw`db\.updateIndexes\(store, table, existingItem, data\.Item,[\s\S]*` +
            String.raw`itemDb\.put\(key, data\.Item,`,
        ).test(m.sources['actions/putItem.js'] ?? '')
      );
    },
  },
  {
    name: 'db.queryTable (called through the module by Query)',
    usedBy: 'index-lag.ts',
    check: (m) =>
      dbFunction('queryTable')(m) &&
      /db\.queryTable\(store, table, data, opts,/.test(m.sources['actions/query.js'] ?? ''),
  },
  {
    name: 'expression parsers (parse called through the module)',
    usedBy: 'expression-cache.ts',
    check: (m) =>
      ['conditionParser', 'updateParser', 'projectionParser'].every((p) =>
        isFunction((load(`dynalite/db/${p}`) as { parse?: unknown }).parse),
      ) && /return parser\.parse\(str, \{ context: context \}\)/.test(m.sources['validations/index.js'] ?? ''),
  },
  {
    name: 'validations.checkTypes / checkValidations',
    usedBy: 'transactions.ts',
    check: (m) => isFunction(m.validations.checkTypes) && isFunction(m.validations.checkValidations),
  },
  {
    name: 'actions putItem / updateItem / deleteItem',
    usedBy: 'transactions.ts',
    check: (m) => Object.values(m.actions).every(isFunction),
  },
  {
    name: 'validations/<action>.types (and .custom)',
    usedBy: 'transactions.ts, index.ts',
    check: (m) =>
      Object.values(m.actionValidations).every(
        (v) => typeof (v as { types?: unknown })?.types === 'object' && (v as { types: object }).types !== null,
      ),
  },
];

/** Thrown when the installed dynalite no longer has what the engine relies on. */
export class DynaliteInternalsMovedError extends Error {
  constructor(readonly moved: string[]) {
    super(
      `the local engine relies on dynalite ${DYNALITE_VERSION} internals that are missing or changed: ` +
        `${moved.join('; ')}. See packages/local-engine/README.md before upgrading dynalite.`,
    );
    this.name = 'DynaliteInternalsMovedError';
  }
}

/** The members of dynalite's store (the result of `db.create`) that the engine uses. */
const STORE_MEMBERS = ['getTable', 'getItemDb', 'getIndexDb'] as const;
const MAIN_DB_MEMBERS = ['open', 'get', 'put', 'batch', 'getMany', 'close'] as const;

/** Throws {@link DynaliteInternalsMovedError} when a started store lacks what the engine uses. */
export function checkStore(store: unknown): void {
  const s = store as Record<string, unknown> & { db?: Record<string, unknown>; tableDb?: Record<string, unknown> };
  const moved = [
    ...STORE_MEMBERS.filter((name) => !isFunction(s?.[name])).map((name) => `store.${name}`),
    ...MAIN_DB_MEMBERS.filter((name) => !isFunction(s?.db?.[name])).map((name) => `store.db.${name}`),
    ...(['get', 'put', 'del'] as const).filter((n) => !isFunction(s?.tableDb?.[n])).map((n) => `store.tableDb.${n}`),
  ];
  if (moved.length > 0) throw new DynaliteInternalsMovedError(moved.map((name) => `${name} (the store)`));
}

/** Throws {@link DynaliteInternalsMovedError} naming every internal that moved. */
export function checkInternals(modules: DynaliteModules = installedDynalite()): void {
  const moved = INTERNALS.filter((internal) => {
    try {
      return !internal.check(modules);
    } catch {
      return true;
    }
  }).map((internal) => `${internal.name} (${internal.usedBy})`);
  if (moved.length > 0) throw new DynaliteInternalsMovedError(moved);
}
