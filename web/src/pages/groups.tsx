/**
 * Groups: the hierarchy as a tree with each group's member count and status bar, and a form to create
 * or edit a group with a criteria builder; the criteria inherited from the chosen parent are shown,
 * since members must match them too.
 */
import { useState } from 'preact/hooks';
import {
  DATE_FIELDS,
  DATE_OPS,
  METADATA_OPS,
  STATUS_OPS,
  STRING_FIELDS,
  STRING_OPS,
  TAG_OPS,
} from '../../../functions/domain/filters';
import { api, ApiError, get, seg } from '../api';
import { href, navigate } from '../router';
import type { Criterion, DeviceStats, Group, ListPage } from '../types';
import {
  allPages,
  DEVICE_STATUSES,
  messageOf,
  Options,
  Section,
  StatusBar,
  StatusLegend,
  statusLabel,
  useLoad,
} from '../ui';

const FIELDS = [...STRING_FIELDS, 'status', 'tags', ...DATE_FIELDS, 'metadata'] as const;

/** The operators valid for a criterion field (docs/api.md, Filters and sort). */
function operandsOf(field: string): readonly string[] {
  if ((STRING_FIELDS as readonly string[]).includes(field)) return STRING_OPS;
  if (field === 'status') return STATUS_OPS;
  if (field === 'tags') return TAG_OPS;
  if ((DATE_FIELDS as readonly string[]).includes(field)) return DATE_OPS;
  return METADATA_OPS;
}

const describeCriterion = (c: Criterion) => `${c.field} ${c.operand} ${c.value}`;

interface Node {
  group: Group;
  children: Node[];
}

function tree(groups: Group[]): Node[] {
  const nodes = new Map(groups.map((g) => [g.id, { group: g, children: [] as Node[] }]));
  const roots: Node[] = [];
  for (const node of nodes.values()) {
    const parent = node.group.parent_id ? nodes.get(node.group.parent_id) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const sort = (list: Node[]) =>
    list.sort((a, b) => a.group.name.localeCompare(b.group.name)).forEach((n) => sort(n.children));
  sort(roots);
  return roots;
}

function GroupStats({ id }: { id: string }) {
  const stats = useLoad(() => get<DeviceStats>(`/device-groups/${seg(id)}/stats`).then((r) => r.data), [id]);
  if (stats.error !== undefined) return <span class="error inline">stats unavailable: {messageOf(stats.error)}</span>;
  if (!stats.data) return <span class="muted">…</span>;
  return (
    <>
      <a
        class="count"
        href={href(['devices'], { group: id })}
        aria-label={`${stats.data.total} members of ${id}: list them`}
      >
        {stats.data.total} member{stats.data.total === 1 ? '' : 's'}
      </a>
      <StatusBar distribution={stats.data.status_distribution} />
    </>
  );
}

function TreeNodes({ nodes }: { nodes: Node[] }) {
  return (
    <ul class="tree">
      {nodes.map((n) => (
        <li key={n.group.id}>
          <div class="node">
            <a href={href(['groups', n.group.id])} class="name">
              {n.group.name}
            </a>
            <code class="muted">{n.group.id}</code>
            <GroupStats id={n.group.id} />
            <span class="muted criteria">
              {n.group.criteria.map(describeCriterion).join(' AND ') || 'all devices of the parent'}
            </span>
          </div>
          {n.children.length > 0 && <TreeNodes nodes={n.children} />}
        </li>
      ))}
    </ul>
  );
}

function CriteriaBuilder({ criteria, onChange }: { criteria: Criterion[]; onChange: (c: Criterion[]) => void }) {
  const update = (i: number, patch: Partial<Criterion>) =>
    onChange(criteria.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  return (
    <fieldset>
      <legend>Criteria (all must match)</legend>
      {criteria.length === 0 && <p class="muted">No own criteria: every device the ancestors match.</p>}
      {criteria.map((c, i) => {
        const isMeta = c.field.startsWith('metadata.') || c.field === 'metadata';
        const base = isMeta ? 'metadata' : c.field;
        return (
          <div class="row criterion" key={i}>
            <label>
              <span class="sr-only">Field of criterion {i + 1}</span>
              <select
                value={base}
                onChange={(e) =>
                  update(i, {
                    field: e.currentTarget.value === 'metadata' ? 'metadata.' : e.currentTarget.value,
                    operand: operandsOf(e.currentTarget.value)[0]!,
                  })
                }
              >
                <Options values={FIELDS} />
              </select>
            </label>
            {isMeta && (
              <label>
                <span class="sr-only">Metadata key of criterion {i + 1}</span>
                <input
                  value={c.field.slice('metadata.'.length)}
                  placeholder="key.path"
                  onInput={(e) => update(i, { field: `metadata.${e.currentTarget.value}` })}
                />
              </label>
            )}
            <label>
              <span class="sr-only">Operator of criterion {i + 1}</span>
              <select value={c.operand} onChange={(e) => update(i, { operand: e.currentTarget.value })}>
                <Options values={operandsOf(base)} />
              </select>
            </label>
            <label>
              <span class="sr-only">Value of criterion {i + 1}</span>
              {base === 'status' && c.operand !== 'in' ? (
                <select value={c.value} onChange={(e) => update(i, { value: e.currentTarget.value })}>
                  <Options values={DEVICE_STATUSES} label={statusLabel} />
                </select>
              ) : (
                <input
                  value={c.value}
                  placeholder={(DATE_FIELDS as readonly string[]).includes(base) ? '2027-01-01T00:00:00Z' : 'value'}
                  onInput={(e) => update(i, { value: e.currentTarget.value })}
                />
              )}
            </label>
            <button
              type="button"
              class="link"
              onClick={() => onChange(criteria.filter((_, j) => j !== i))}
              aria-label={`Remove criterion ${i + 1}`}
            >
              remove
            </button>
          </div>
        );
      })}
      <button
        type="button"
        class="secondary"
        onClick={() => onChange([...criteria, { field: 'tags', operand: 'ct', value: '' }])}
      >
        Add criterion
      </button>
    </fieldset>
  );
}

function GroupForm({
  groups,
  editing,
  parentHint,
  onSaved,
}: {
  groups: Group[];
  editing?: Group;
  parentHint?: string;
  onSaved: (notice: string) => void;
}) {
  const [id, setId] = useState('');
  const [name, setName] = useState(editing?.name ?? '');
  const [description, setDescription] = useState(editing?.description ?? '');
  const [parent, setParent] = useState(editing?.parent_id ?? parentHint ?? '');
  const [criteria, setCriteria] = useState<Criterion[]>(editing?.criteria ?? []);
  const [error, setError] = useState<string>();
  const parentGroup = groups.find((g) => g.id === parent);
  const inherited = parentGroup ? [...parentGroup.inherited_criteria, ...parentGroup.criteria] : [];
  const save = async (e: Event) => {
    e.preventDefault();
    const body = { name, description, parent_id: parent || null, criteria };
    try {
      if (editing) {
        await api('PUT', `/device-groups/${seg(editing.id)}`, { body, ifMatch: `"${editing.version}"` });
        onSaved(`Saved ${editing.id}.`);
      } else {
        const { data } = await api<Group>('POST', '/device-groups', {
          body: { ...body, ...(id ? { id } : {}), ...(parent ? {} : { parent_id: undefined }) },
        });
        onSaved(`Created ${data.id}.`);
        navigate(href(['groups', data.id]));
      }
    } catch (error) {
      const conflict = error instanceof ApiError && error.status === 412;
      setError(
        conflict
          ? `Not saved: someone else changed this group since you opened ` +
              `it (you edited version ${editing?.version}). Reload the page, ` +
              `review, and save again.`
          : `Not saved: ${messageOf(error)}`,
      );
    }
  };
  return (
    <form class="card" onSubmit={(e) => void save(e)} aria-labelledby="group-form-title">
      <h2 id="group-form-title">{editing ? `Edit group ${editing.id}` : 'New group'}</h2>
      {!editing && (
        <>
          <label for="g-id">Id (optional: a UUID is generated)</label>
          <input id="g-id" value={id} onInput={(e) => setId(e.currentTarget.value)} />
        </>
      )}
      <label for="g-name">Name</label>
      <input id="g-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      <label for="g-description">Description</label>
      <input id="g-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      <label for="g-parent">Parent</label>
      <select id="g-parent" value={parent} onChange={(e) => setParent(e.currentTarget.value)}>
        <option value="">(none: a root group)</option>
        {groups
          .filter((g) => g.id !== editing?.id)
          .map((g) => (
            <option key={g.id} value={g.id}>
              {g.name} ({g.id})
            </option>
          ))}
      </select>
      <div class="inherited" aria-live="polite">
        <strong>Inherited criteria</strong>{' '}
        {inherited.length ? (
          <ul>
            {inherited.map((c, i) => (
              <li key={i}>
                <code>{describeCriterion(c)}</code>
              </li>
            ))}
          </ul>
        ) : (
          <span class="muted">none</span>
        )}
      </div>
      <CriteriaBuilder criteria={criteria} onChange={setCriteria} />
      <div class="actions">
        <button type="submit">{editing ? `Save (version ${editing.version})` : 'Create group'}</button>
        {editing && (
          <a class="button secondary" href={href(['groups', 'new'], { parent: editing.id })}>
            New child group
          </a>
        )}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function GroupsPage({ selected, query }: { selected?: string; query: URLSearchParams }) {
  const [refresh, setRefresh] = useState(0);
  const [notice, setNotice] = useState<string>();
  const groups = useLoad(
    () =>
      allPages((bookmark) =>
        get<ListPage<Group>>('/device-groups', { page_size: '1000', ...(bookmark ? { bookmark } : {}) }).then(
          (r) => r.data,
        ),
      ),
    [refresh],
  );
  return (
    <>
      <h1>Groups</h1>
      {notice && (
        <p class="ok" role="status">
          {notice}
        </p>
      )}
      <Section what="the device groups" loaded={groups}>
        {(list) => {
          const editing = selected && selected !== 'new' ? list.find((g) => g.id === selected) : undefined;
          return (
            <div class="split">
              <section aria-labelledby="tree-title">
                <h2 id="tree-title">Hierarchy</h2>
                <p>
                  <a class="button" href={href(['groups', 'new'])}>
                    New group
                  </a>
                </p>
                {list.length ? <TreeNodes nodes={tree(list)} /> : <p class="muted">No groups yet.</p>}
                {list.length > 0 && <StatusLegend />}
              </section>
              {selected && selected !== 'new' && !editing ? (
                <p class="error" role="alert">
                  No group {selected}.
                </p>
              ) : (
                <GroupForm
                  key={editing ? `${editing.id}@${editing.version}` : `new-${query.get('parent') ?? ''}`}
                  groups={list}
                  editing={editing}
                  parentHint={query.get('parent') ?? undefined}
                  onSaved={(message) => {
                    setNotice(message);
                    setRefresh((n) => n + 1);
                  }}
                />
              )}
            </div>
          );
        }}
      </Section>
    </>
  );
}
