/** Query-string parsing for device lists and statistics (docs/api.md: Wire conventions (lists), Filters and sort). */
import { ValidationError, type FieldProblem } from '../domain/errors';
import { compileCriterion, type Filter, splitFilterParam } from '../domain/filters';
import {
  DEFAULT_PAGE_SIZE,
  type DeviceListQuery,
  MAX_PAGE_SIZE,
  SORT_FIELDS,
  SORT_MODES,
  type SortField,
  type SortMode,
} from '../domain/query';

function throwIf(problems: FieldProblem[], message: string) {
  if (problems.length > 0) throw new ValidationError(message, problems);
}

function collectFilters(query: URLSearchParams): { filters: Filter[]; problems: FieldProblem[] } {
  const filters: Filter[] = [];
  const problems: FieldProblem[] = [];
  query.getAll('filter').forEach((param, i) => {
    const criterion = splitFilterParam(param);
    if (!criterion) {
      problems.push({ field: `filter[${i}]`, problem: `'${param}' is not of the form field[operator]value` });
      return;
    }
    if (criterion.field === CONNECTED_FIELD) {
      problems.push({ field: `filter[${i}]`, problem: CONNECTED_LIST_ONLY });
      return;
    }
    const { filter, problem } = compileCriterion(criterion, `filter[${i}]`);
    if (filter) filters.push(filter);
    if (problem) problems.push(problem);
  });
  return { filters, problems };
}

export function parseFilters(query: URLSearchParams): Filter[] {
  const { filters, problems } = collectFilters(query);
  throwIf(problems, 'invalid filter');
  return filters;
}

export function parsePaging(query: URLSearchParams): { pageSize: number; bookmark?: string; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const raw = query.get('page_size');
  let pageSize = DEFAULT_PAGE_SIZE;
  if (raw !== null) {
    pageSize = Number(raw);
    if (!/^\d+$/.test(raw) || pageSize < 1 || pageSize > MAX_PAGE_SIZE)
      problems.push({ field: 'page_size', problem: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
  }
  const bookmark = query.get('bookmark') || undefined;
  return { pageSize, bookmark, problems };
}

/** The `connected` filter of device lists (AWS IoT presence): not a device field, so not a criterion. */
const CONNECTED_FIELD = 'connected';
const CONNECTED_LIST_ONLY =
  "'connected' filters device lists only (GET /v2/devices); connectivity counts are GET /v2/stats/connectivity";

/** Takes `filter=connected[eq]true|false` out of the query (problems named by its position). */
function takeConnected(query: URLSearchParams): {
  rest: URLSearchParams;
  connected?: boolean;
  problems: FieldProblem[];
} {
  const rest = new URLSearchParams(query);
  const problems: FieldProblem[] = [];
  let connected: boolean | undefined;
  const kept: string[] = [];
  query.getAll('filter').forEach((param, i) => {
    const criterion = splitFilterParam(param);
    if (criterion?.field !== CONNECTED_FIELD) return void kept.push(param);
    if (criterion.operand !== 'eq' || (criterion.value !== 'true' && criterion.value !== 'false'))
      problems.push({ field: `filter[${i}]`, problem: 'connected takes [eq]true or [eq]false' });
    else if (connected !== undefined && connected !== (criterion.value === 'true'))
      problems.push({ field: `filter[${i}]`, problem: 'connected is given twice with different values' });
    else connected = criterion.value === 'true';
  });
  rest.delete('filter');
  for (const param of kept) rest.append('filter', param);
  return { rest, connected, problems };
}

export function parseListQuery(query: URLSearchParams): DeviceListQuery {
  const taken = takeConnected(query);
  const { filters, problems } = collectFilters(taken.rest);
  problems.push(...taken.problems);
  const paging = parsePaging(query);
  problems.push(...paging.problems);
  const { pageSize, bookmark } = paging;
  const sortBy = (query.get('sort_by') ?? 'creation_timestamp') as SortField;
  if (!SORT_FIELDS.includes(sortBy))
    problems.push({ field: 'sort_by', problem: `must be one of ${SORT_FIELDS.join(', ')}` });
  const sortMode = (query.get('sort_mode') ?? 'asc') as SortMode;
  if (!SORT_MODES.includes(sortMode)) problems.push({ field: 'sort_mode', problem: 'must be asc or desc' });
  if (taken.connected !== undefined && sortBy === 'identity.expiration_date')
    problems.push({ field: 'sort_by', problem: 'the connected filter sorts by creation_timestamp or id only' });
  throwIf(problems, 'invalid list parameters');
  return {
    filters,
    sortBy,
    sortMode,
    pageSize,
    bookmark,
    ...(taken.connected === undefined ? {} : { connected: taken.connected }),
  };
}
