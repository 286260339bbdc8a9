// The collections screen: every collection the key may see with its counts, model, dimension,
// metric and its index's memory; create one (model picker from GET /v1/models);
// delete one after confirming by name.
import { client } from './api.js';
import { formatBytes, formatNumber, h } from './dom.js';
import type { Collection, CreateCollectionInput } from '../client/index.js';
import { busy, empty, go, link, notify } from './ui.js';

type Embedder = NonNullable<CreateCollectionInput['embedder']>;

function modelOf(c: Collection): string {
  const e = c.embedder as { provider?: string; model?: string };
  if (e.provider === 'none') return 'none (client vectors)';
  return e.model ? `${e.provider ?? 'local'}: ${e.model}` : String(e.provider ?? '');
}

export async function collectionsScreen(main: HTMLElement): Promise<void> {
  const list = await client().collections.list();
  const models = await client()
    .api.GET('/v1/models')
    .then((r) => r.data?.data ?? [])
    .catch(() => []);

  const name = h('input', { id: 'new-name', name: 'name', required: true, pattern: '[A-Za-z0-9_\\-]{1,64}', placeholder: 'notes', autocomplete: 'off' });
  const model = h(
    'select',
    { id: 'new-model', name: 'model' },
    h('option', { value: '' }, 'Server default'),
    models.filter((m) => m.owned_by === 'quiver').map((m) => h('option', { value: `local:${m.id}` }, `local: ${m.id}`)),
    models.filter((m) => m.owned_by !== 'quiver').map((m) => h('option', { value: `bedrock:${m.id}` }, `bedrock: ${m.id}`)),
    h('option', { value: 'none' }, 'None: I send vectors'),
  );
  const dimension = h('input', { id: 'new-dim', name: 'dimension', type: 'number', min: 1, max: 4096, placeholder: '384' });
  const metric = h('select', { id: 'new-metric', name: 'metric' }, ['cosine', 'l2', 'ip'].map((m) => h('option', { value: m }, m)));
  const dimField = h('div', { class: 'field', hidden: true }, h('label', { for: 'new-dim' }, 'Dimension'), dimension);
  model.addEventListener('change', () => (dimField.hidden = model.value !== 'none'));
  const create = h('button', { type: 'submit', class: 'primary' }, 'Create collection');
  const form = h(
    'form',
    { class: 'create', 'aria-label': 'Create a collection' },
    h('div', { class: 'field' }, h('label', { for: 'new-name' }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: 'new-model' }, 'Model'), model),
    dimField,
    h('div', { class: 'field' }, h('label', { for: 'new-metric' }, 'Metric'), metric),
    create,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(create, async () => {
      const m = model.value;
      // The picker lists what GET /v1/models offered, so a bedrock id is one the server knows.
      const embedder: Embedder | undefined =
        m === '' ? undefined : m === 'none' ? { provider: 'none' } : m.startsWith('local:') ? { provider: 'local', model: m.slice(6) } : ({ provider: 'bedrock', model: m.slice(8) } as Embedder);
      const input: CreateCollectionInput = {
        name: name.value,
        metric: metric.value as CreateCollectionInput['metric'],
        ...(embedder ? { embedder } : {}),
        ...(m === 'none' ? { dimension: Number(dimension.value) } : {}),
      };
      const created = await client().collections.create(input);
      notify(`Created ${created.name}. Load some data next.`);
      go(link(created.name, 'load'));
    });
  });

  const rows = list.map((c) => {
    const del = h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${c.name}` }, 'Delete');
    del.addEventListener('click', () => confirmDelete(c.name));
    return h(
      'tr',
      null,
      h('th', { scope: 'row' }, h('a', { href: link(c.name, 'search') }, c.name)),
      h('td', { class: 'num' }, formatNumber(c.document_count)),
      h('td', { class: 'num' }, c.vector_count === null ? '—' : formatNumber(c.vector_count)),
      h('td', null, modelOf(c)),
      h('td', { class: 'num' }, c.dimension),
      h('td', null, c.metric),
      h('td', { class: 'num' }, c.index_memory_bytes === null ? '—' : formatBytes(c.index_memory_bytes)),
      h('td', null, h('div', { class: 'actions' }, h('a', { href: link(c.name, 'map'), class: 'button small' }, 'Map'), h('a', { href: link(c.name, 'load'), class: 'button small' }, 'Load'), del)),
    );
  });
  main.replaceChildren(
    h('h1', null, 'Collections'),
    list.length === 0
      ? empty('No collections yet', 'Create one below, then drop files on it to load documents.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'collections' },
            h('caption', { class: 'sr-only' }, 'Collections'),
            h('thead', null, h('tr', null, ['Name', 'Documents', 'Vectors', 'Model', 'Dimension', 'Metric', 'Index memory', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', null, rows),
          ),
        ),
    h('h2', null, 'New collection'),
    form,
  );
}

function confirmDelete(name: string): void {
  const typed = h('input', { id: 'confirm-name', autocomplete: 'off' });
  const ok = h('button', { type: 'submit', class: 'danger' }, 'Delete for good');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const dialog = h(
    'dialog',
    { 'aria-labelledby': 'confirm-title' },
    h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'confirm-title' }, `Delete ${name}?`),
      h('p', null, 'Its documents, vectors and index files are removed. Type the name to confirm.'),
      h('label', { for: 'confirm-name' }, 'Collection name'),
      typed,
      h('div', { class: 'row' }, cancel, ok),
    ),
  );
  cancel.addEventListener('click', () => dialog.close());
  // The complaint about a wrong name holds until the name is edited, else it would block every submit.
  typed.addEventListener('input', () => typed.setCustomValidity(''));
  dialog.addEventListener('close', () => dialog.remove());
  dialog.querySelector('form')!.addEventListener('submit', (e) => {
    e.preventDefault();
    if (typed.value !== name) {
      typed.setCustomValidity(`type ${name}`);
      typed.reportValidity();
      return;
    }
    busy(ok, async () => {
      await client().collections.delete(name);
      dialog.close();
      notify(`Deleted ${name}.`);
      go('#/');
    });
  });
  document.body.append(dialog);
  dialog.showModal();
  typed.focus();
}
