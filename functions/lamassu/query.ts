/**
 * Lamassu's list query syntax (controllers.FilterQuery) over our list use cases, and its paging:
 * after page 1 Lamassu's SDK sends only `bookmark` (and `sort_mode=asc`, whatever page 1 used), so a
 * v1 bookmark carries the whole query with the position, signed with the bookmark secret.
 */
import type { DeviceStats, Page } from '../app/ports';
import { DEVICE_STATUSES, type Device } from '../domain/device';
import { InvalidBookmarkError, QueryTooBroadError, ValidationError, type FieldProblem } from '../domain/errors';
import { compileCriteria, type Criterion, type Filter } from '../domain/filters';
import {
  DEFAULT_LIST_BYTE_BUDGET,
  pageWeight,
  DEFAULT_PAGE_SIZE,
  DEFAULT_REQUEST_TIME_BUDGET_MS,
  type DeviceListQuery,
  MAX_PAGE_SIZE,
  SORT_FIELDS,
  type SortField,
  type SortMode,
} from '../domain/query';
import {
  compareSortValues,
  compileJsonPath,
  type JsonPathBudget,
  JsonPathBudgetError,
  jsonPathBudget,
  type JsonPathPredicate,
  matchesJsonPath,
  select,
} from './jsonpath';
import {
  array,
  enum as enumOf,
  int,
  literal,
  maximum,
  maxLength,
  minimum,
  number,
  optional,
  strictObject,
  string,
  union,
} from '../domain/zod-mini';
import { toLamassuDevice, toLamassuSlot, translateCriterion } from './model';
import { withJsonText } from '../domain/json-text';
import { turnPauser } from '../runtime/turns';

/** A v1 list query, as carried in its bookmarks. */
export interface LamassuQuery {
  /** Our criteria (short operators), compiled again on every page. */
  criteria: Criterion[];
  /** `metadata[jsonpath]` and `identity_slot[jsonpath]` filters, applied to what is read. */
  jsonpath: { field: 'metadata' | 'identity_slot'; expression: string }[];
  /** A sort our indexes serve, or one done in memory (`metadata[jsonpath]$.x`, `dms_owner`, `status`). */
  sort: { field: SortField } | { field: 'metadata'; expression: string } | { field: 'dms_owner' | 'status' };
  sortMode: SortMode;
  pageSize: number;
}

/** Where a v1 list resumes: a v2 bookmark (index order) or an offset (in-memory sort). */
interface Position {
  q: LamassuQuery;
  b?: string;
  o?: number;
}

const positionSchema = strictObject({
  q: strictObject({
    criteria: array(strictObject({ field: string(), operand: string(), value: string() })).check(maxLength(50)),
    jsonpath: array(
      strictObject({ field: enumOf(['metadata', 'identity_slot']), expression: string().check(maxLength(500)) }),
    ).check(maxLength(20)),
    sort: union([
      strictObject({ field: enumOf(SORT_FIELDS) }),
      strictObject({ field: literal('metadata'), expression: string().check(maxLength(500)) }),
      strictObject({ field: enumOf(['dms_owner', 'status']) }),
    ]),
    sortMode: enumOf(['asc', 'desc']),
    pageSize: number().check(int(), minimum(1), maximum(MAX_PAGE_SIZE)),
  }),
  b: optional(string().check(maxLength(4096))),
  o: optional(number().check(int(), minimum(0))),
});

/** Signs and verifies v1 bookmarks (the bookmark codec of the v2 lists, under its own query name). */
export interface PositionCodec {
  encode(query: unknown, position: string): string;
  decode(query: unknown, bookmark: string): string;
}
const V1_BOOKMARK_QUERY = 'lamassu-devmanager-v1';

/**
 * Parses a v1 list query. With a bookmark the query comes from the bookmark and every other
 * parameter is ignored (the SDK's `sort_mode=asc` on later pages included). Unknown fields and
 * sort fields are ignored as Lamassu does; an unknown operand of a known field is a 400.
 */
function parseLamassuQuery(
  params: URLSearchParams,
  codec: PositionCodec,
): { query: LamassuQuery; position?: Position } {
  const bookmark = params.getAll('bookmark').at(-1);
  if (bookmark) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(codec.decode(V1_BOOKMARK_QUERY, bookmark));
    } catch (cause) {
      if (cause instanceof InvalidBookmarkError) throw cause;
      throw new InvalidBookmarkError({ cause });
    }
    const position = positionSchema.safeParse(parsed);
    if (!position.success) throw new InvalidBookmarkError();
    return { query: position.data.q, position: position.data };
  }
  const last = (name: string) => params.getAll(name).at(-1);
  const problems: FieldProblem[] = [];
  const criteria: Criterion[] = [];
  const jsonpath: LamassuQuery['jsonpath'] = [];
  params.getAll('filter').forEach((raw, i) => {
    const open = raw.indexOf('[');
    const close = raw.indexOf(']');
    if (open === -1 || close === -1 || open >= close) return; // Lamassu ignores it
    const field = raw.slice(0, open);
    const operand = raw.slice(open + 1, close);
    const value = raw.slice(close + 1);
    const t = translateCriterion(field, operand, value);
    if (t.kind === 'invalid') problems.push({ field: `filter[${i}]`, problem: t.message });
    else if (t.kind === 'native') criteria.push(t.criterion);
    else if (t.kind === 'jsonpath') {
      const compiled = compileJsonPath(t.expression);
      if (typeof compiled === 'string') problems.push({ field: `filter[${i}]`, problem: compiled });
      else jsonpath.push({ field: t.field, expression: t.expression });
    }
  });
  let sort: LamassuQuery['sort'] = { field: 'creation_timestamp' };
  const sortBy = last('sort_by')?.trim();
  if (sortBy) {
    const at = sortBy.indexOf('[jsonpath]');
    if (at !== -1) {
      const expression = sortBy.slice(at + '[jsonpath]'.length);
      // Lamassu sorts only by simple paths and silently ignores any other expression.
      if (sortBy.slice(0, at) === 'metadata' && /^\$(\.[A-Za-z0-9_-]+|\[\d+\])+$/.test(expression))
        sort = { field: 'metadata', expression };
    } else if ((SORT_FIELDS as readonly string[]).includes(sortBy)) sort = { field: sortBy as SortField };
    else if (sortBy === 'dms_owner' || sortBy === 'status') sort = { field: sortBy };
  }
  const pageSize = Number.parseInt(last('page_size') ?? '', 10);
  if (problems.length > 0) throw new ValidationError('invalid filter', problems);
  const query: LamassuQuery = {
    criteria,
    jsonpath,
    sort,
    sortMode: last('sort_mode') === 'desc' ? 'desc' : 'asc',
    pageSize: Number.isFinite(pageSize) && pageSize > 0 ? Math.min(pageSize, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE,
  };
  compileQueryFilters(query); // a value our filters refuse is a 400 on page 1, not later
  return { query };
}

type Predicates = { field: 'metadata' | 'identity_slot'; expression: string; predicate: JsonPathPredicate }[];

function compileQueryFilters(query: LamassuQuery): {
  filters: Filter[];
  predicates: Predicates;
  sortPath?: JsonPathPredicate['path'];
} {
  const { filters, problems } = compileCriteria(query.criteria, (i) => `filter[${i}]`);
  if (problems.length > 0) throw new ValidationError('invalid filter', problems);
  const compile = (expression: string) => {
    const predicate = compileJsonPath(expression);
    if (typeof predicate === 'string')
      throw new ValidationError('invalid filter', [{ field: 'filter', problem: predicate }]);
    return predicate;
  };
  const predicates = query.jsonpath.map(({ field, expression }) => ({
    field,
    expression,
    predicate: compile(expression),
  }));
  const sortPath = 'expression' in query.sort ? compile(query.sort.expression).path : undefined;
  return { filters, predicates, ...(sortPath ? { sortPath } : {}) };
}

/**
 * The request's filter over devices: every JSONPath predicate, all charged to one budget, pausing
 * between devices after each slice of steps (JsonPathBudget.turn). A budget overrun is a 422
 * QUERY_TOO_BROAD naming the filter that was being evaluated.
 */
function keeper(predicates: Predicates, budget: JsonPathBudget): (devices: readonly Device[]) => Promise<Device[]> {
  const matches = (d: Device) =>
    predicates.every(({ field, expression, predicate }) => {
      try {
        return matchesJsonPath(predicate, jsonOf(d, field), budget);
      } catch (error) {
        if (error instanceof JsonPathBudgetError)
          throw new QueryTooBroadError(
            `${field}[jsonpath]${expression}: ${error.message}; narrow ` +
              `it or add indexed filters (dms_owner, tags, status)`,
            `${field}[jsonpath]`,
          );
        throw error;
      }
    });
  return async (devices) => {
    const kept: Device[] = [];
    for (const d of devices) {
      if (matches(d)) kept.push(d);
      await budget.turn();
    }
    return kept;
  };
}

/** A device in Lamassu's model with its JSON text: serialized once, for the byte budget and the response. */
function lamassuItem(d: Device) {
  const item = toLamassuDevice(d);
  const text = JSON.stringify(item);
  return { item: withJsonText(item, text), bytes: Buffer.byteLength(text) };
}

/** The document a Lamassu JSONPath filter of `field` is applied to. */
function jsonOf(device: Device, field: 'metadata' | 'identity_slot'): unknown {
  if (field === 'metadata') return device.metadata;
  return device.identity ? toLamassuSlot(device.identity) : null;
}

function sortValue(
  device: Device,
  sort: LamassuQuery['sort'],
  path: JsonPathPredicate['path'] | undefined,
  budget: JsonPathBudget,
): unknown {
  if (sort.field === 'metadata') {
    if (!path) return undefined;
    try {
      return select(path, device.metadata, budget)[0];
    } catch (error) {
      if (error instanceof JsonPathBudgetError)
        throw new QueryTooBroadError(
          `sorting by metadata[jsonpath]${'expression' in sort ? sort.expression : ''}: ${error.message}`,
          'sort_by',
        );
      throw error;
    }
  }
  return sort.field === 'dms_owner' ? device.dms_owner : device.status;
}

export interface ListDeps {
  /** The v2 list of the scope (all devices, a DMS, a group's members). */
  list(query: DeviceListQuery): Promise<Page<Device>>;
  codec: PositionCodec;
  /** Devices one request may examine (docs/api.md, Limits and edges). */
  readBudget: number;
  /** Filters the route adds (e.g. the DMS of `/devices/dms/{id}`). */
  scope?: Criterion[];
  /** Serialized bytes of devices one page may hold (under Lambda's 6 MB response limit). */
  byteBudget?: number;
  /** Milliseconds one request may spend reading and evaluating JSONPath (under the function's timeout). */
  timeBudgetMs?: number;
  now?: () => number;
  /** Yields the event loop between slices of evaluation; defaults to a cooperative turn (turns.ts). */
  pause?: () => Promise<void>;
}

/** The budget of one request's JSONPath evaluation, ending at its time budget, pausing between slices. */
function requestBudget(deps: ListDeps): { budget: JsonPathBudget; deadline: number; now: () => number } {
  const now = deps.now ?? Date.now;
  const deadline = now() + (deps.timeBudgetMs ?? DEFAULT_REQUEST_TIME_BUDGET_MS);
  return { budget: jsonPathBudget(deadline, now, deps.pause ?? turnPauser()), deadline, now };
}

/** One page of a v1 list, in Lamassu's `{next, list}` shape. */
export async function lamassuList(
  params: URLSearchParams,
  deps: ListDeps,
): Promise<{ next: string; list: ReturnType<typeof toLamassuDevice>[] }> {
  // Each item carries its JSON text (domain/json-text.ts): a handler answers with okPage.
  const { query, position } = parseLamassuQuery(params, deps.codec);
  const scoped: LamassuQuery = { ...query, criteria: [...(deps.scope ?? []), ...query.criteria] };
  const { filters, predicates, sortPath } = compileQueryFilters(scoped);
  const { budget, deadline, now } = requestBudget(deps);
  const keep = keeper(predicates, budget);
  const byteBudget = deps.byteBudget ?? DEFAULT_LIST_BYTE_BUDGET;
  const wrap = (p: Omit<Position, 'q'>) => deps.codec.encode(V1_BOOKMARK_QUERY, JSON.stringify({ q: query, ...p }));
  const page = (list: ReturnType<typeof toLamassuDevice>[], next: string) => ({ next, list });

  if (!('expression' in query.sort) && (SORT_FIELDS as readonly string[]).includes(query.sort.field)) {
    const base = { filters, sortBy: query.sort.field as SortField, sortMode: query.sortMode };
    if (predicates.length === 0) {
      const out = await deps.list({ ...base, pageSize: query.pageSize, bookmark: position?.b });
      return page(
        out.list.map((d) => lamassuItem(d).item),
        out.next ? wrap({ b: out.next }) : '',
      );
    }
    // JSONPath filters: read pages no larger than what is still missing, so the v2 bookmark is
    // always a position between two pages and nothing read is skipped or served twice.
    // Each read is given the bytes still free, so the page stays within the byte budget too.
    const found: ReturnType<typeof toLamassuDevice>[] = [];
    let bookmark = position?.b;
    let examined = 0;
    let bytes = 0;
    do {
      const out = await deps.list({
        ...base,
        pageSize: query.pageSize - found.length,
        bookmark,
        maxBytes: byteBudget - bytes,
      });
      examined += out.list.length;
      for (const d of await keep(out.list)) {
        const { item, bytes: size } = lamassuItem(d);
        found.push(item);
        bytes += pageWeight(size);
      }
      bookmark = out.next || undefined;
      // An empty read after a partial page: the next device does not fit the bytes left.
      if (out.list.length === 0 && found.length > 0) break;
    } while (
      bookmark &&
      found.length < query.pageSize &&
      examined < deps.readBudget &&
      bytes < byteBudget &&
      now() < deadline
    );
    return page(found, bookmark ? wrap({ b: bookmark }) : '');
  }

  // In-memory sort (no index holds this order): read every match within the budget, then page.
  const all = await readAllMatching(filters, keep, deps, `sorting by ${query.sort.field}`, deadline, now);
  const direction = query.sortMode === 'desc' ? -1 : 1;
  // Each device's sort value is computed once (a JSONPath sort charges the request's budget).
  const values = new Map<Device, unknown>();
  for (const d of all) {
    values.set(d, sortValue(d, query.sort, sortPath, budget));
    await budget.turn();
  }
  all.sort((a, b) => {
    const va = values.get(a);
    const vb = values.get(b);
    // Missing values stay last in both directions.
    if (va === undefined || vb === undefined) return compareSortValues(va, vb) || (a.id < b.id ? -1 : 1);
    return direction * compareSortValues(va, vb) || (a.id < b.id ? -1 : 1);
  });
  const offset = position?.o ?? 0;
  const slice: ReturnType<typeof toLamassuDevice>[] = [];
  let bytes = 0;
  for (const d of all.slice(offset, offset + query.pageSize)) {
    const { item, bytes: size } = lamassuItem(d);
    bytes += pageWeight(size);
    // The page ends early when the next device would pass the byte budget (never empty).
    if (bytes > byteBudget && slice.length > 0) break;
    slice.push(item);
  }
  const end = offset + slice.length;
  return page(slice, end < all.length ? wrap({ o: end }) : '');
}

/** The first page size of a read of every matching device; each next page doubles, up to MAX_PAGE_SIZE. */
export const FIRST_READ_PAGE = 100;

/**
 * Every device matching, read within the budget; beyond it a 422 QUERY_TOO_BROAD saying `what`
 * needs narrower filters. Pages start small and grow, each filtered as it comes: a filter that
 * overruns its budget on the first devices stops the request before it reads more.
 */
async function readAllMatching(
  filters: Filter[],
  keep: (devices: readonly Device[]) => Promise<Device[]>,
  deps: ListDeps,
  what: string,
  deadline: number,
  now: () => number,
): Promise<Device[]> {
  const all: Device[] = [];
  let bookmark: string | undefined;
  let examined = 0;
  let pageSize = FIRST_READ_PAGE;
  do {
    const out = await deps.list({ filters, sortBy: 'id', sortMode: 'asc', pageSize, bookmark });
    pageSize = Math.min(MAX_PAGE_SIZE, pageSize * 2);
    examined += out.list.length;
    if (examined > deps.readBudget)
      throw new QueryTooBroadError(
        `${what} reads every matching device and more than ${deps.readBudget} ` +
          `match: add indexed filters (dms_owner, tags, status)`,
      );
    if (now() > deadline)
      throw new QueryTooBroadError(
        `${what} reads every matching device and ran past the request's ` +
          `time budget: add indexed filters (dms_owner, tags, status)`,
      );
    all.push(...(await keep(out.list)));
    bookmark = out.next || undefined;
  } while (bookmark);
  return all;
}

/**
 * Lamassu's `GET /stats` and group statistics with its filter syntax: counters when only our
 * filters are given, a bounded read when JSONPath filters must be applied to devices.
 */
export async function lamassuStats(
  params: URLSearchParams,
  deps: ListDeps & { stats(filters: readonly Filter[]): Promise<DeviceStats> },
): Promise<DeviceStats> {
  const withoutBookmark = new URLSearchParams(params);
  withoutBookmark.delete('bookmark');
  const { query } = parseLamassuQuery(withoutBookmark, deps.codec);
  const { filters, predicates } = compileQueryFilters({
    ...query,
    criteria: [...(deps.scope ?? []), ...query.criteria],
  });
  if (predicates.length === 0) return deps.stats(filters);
  const { budget, deadline, now } = requestBudget(deps);
  // Read from the devices themselves: as of the read.
  const consistent_as_of = new Date(now()).toISOString();
  const devices = await readAllMatching(
    filters,
    keeper(predicates, budget),
    deps,
    'statistics with a JSONPath filter',
    deadline,
    now,
  );
  const status_distribution = Object.fromEntries(
    DEVICE_STATUSES.map((st) => [st, devices.filter((d) => d.status === st).length]),
  ) as DeviceStats['status_distribution'];
  return { total: devices.length, status_distribution, consistent_as_of };
}
