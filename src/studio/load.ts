// Load data: files dropped on the page (or picked) become documents, sent as one ingest job whose
// progress is followed live: a bar, documents per second, the time left, and failed documents.
// .txt and .md files are one document each (id: the file name); .json is an array of documents
// (or {documents: [...]}); .jsonl is one document per line.
import type { DocumentInput, Job } from '../client/index.js';
import { client, describe } from './api.js';
import { formatDuration, formatNumber, h, fill } from './dom.js';
import { forgetFields } from './meta.js';
import { busy, link, notify } from './ui.js';

const ACCEPT = '.txt,.md,.json,.jsonl,.ndjson';

function asDocument(v: unknown, where: string): DocumentInput {
  if (typeof v !== 'object' || v === null || typeof (v as { id?: unknown }).id !== 'string') throw new Error(`${where}: expected an object with a string "id"`);
  return v as DocumentInput;
}

export async function readFiles(files: File[]): Promise<DocumentInput[]> {
  const docs: DocumentInput[] = [];
  for (const f of files) {
    const text = await f.text();
    const lower = f.name.toLowerCase();
    if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) {
      text.split('\n').forEach((line, i) => {
        if (line.trim() !== '') docs.push(asDocument(JSON.parse(line), `${f.name} line ${i + 1}`));
      });
    } else if (lower.endsWith('.json')) {
      const v = JSON.parse(text) as unknown;
      const list = Array.isArray(v) ? v : (v as { documents?: unknown }).documents;
      if (!Array.isArray(list)) throw new Error(`${f.name}: expected an array of documents or {"documents": [...]}`);
      list.forEach((d, i) => docs.push(asDocument(d, `${f.name} item ${i}`)));
    } else {
      docs.push({ id: f.name, text, metadata: { file: f.name, type: lower.endsWith('.md') ? 'markdown' : 'text' } });
    }
  }
  return docs;
}

export function loadScreen(main: HTMLElement, collection: string): void {
  const input = h('input', { type: 'file', id: 'files', multiple: true, accept: ACCEPT, class: 'sr-only' });
  const zone = h(
    'label',
    { class: 'dropzone', for: 'files', tabindex: 0, 'data-testid': 'dropzone' },
    h('strong', null, 'Drop files here'),
    h('span', null, ' or press Enter to choose them'),
    h('small', null, '.txt and .md: one document each · .json: an array of {id, text, metadata} · .jsonl: one per line'),
  );
  const progress = h('div', { class: 'job', 'aria-live': 'polite' });
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    void start([...(e.dataTransfer?.files ?? [])]);
  });
  input.addEventListener('change', () => void start([...(input.files ?? [])]));

  const start = async (files: File[]) => {
    if (files.length === 0) return;
    let docs: DocumentInput[];
    try {
      docs = await readFiles(files);
    } catch (err) {
      notify(describe(err), 'error');
      return;
    }
    if (docs.length === 0) {
      notify('Those files hold no documents.', 'error');
      return;
    }
    const bar = h('progress', { max: docs.length, value: 0, 'aria-label': 'Ingest progress' });
    const line = h('p', { class: 'job-line', 'data-testid': 'job-status' }, `Submitting ${formatNumber(docs.length)} documents…`);
    const failures = h('ul', { class: 'failures' });
    const cancel = h('button', { type: 'button', class: 'small' }, 'Cancel');
    fill(progress, h('h2', null, `${files.length} file${files.length === 1 ? '' : 's'}, ${formatNumber(docs.length)} documents`), bar, line, failures, cancel);
    let job: Job;
    try {
      job = await client().collection(collection).submitIngest(docs);
    } catch (err) {
      line.textContent = `Not submitted: ${describe(err)}`;
      return;
    }
    cancel.addEventListener('click', () => busy(cancel, async () => void (await client().jobs.cancel(job.id))));
    const started = performance.now();
    const update = (j: Job) => {
      const done = j.done + j.failed;
      bar.value = done;
      const secs = (performance.now() - started) / 1000;
      const rate = done / Math.max(secs, 0.001);
      const left = rate > 0 ? (j.total - done) / rate : Infinity;
      line.textContent =
        j.status === 'done' || j.status === 'failed' || j.status === 'cancelled'
          ? `${j.status === 'done' ? 'Done' : j.status === 'failed' ? `Failed: ${j.error ?? ''}` : 'Cancelled'} · ${formatNumber(j.done)} written (${formatNumber(j.skipped)} unchanged), ${formatNumber(j.failed)} failed · ${formatDuration(secs)}`
          : `${j.status} · ${formatNumber(done)} / ${formatNumber(j.total)} · ${rate.toFixed(0)} docs/s · about ${formatDuration(left)} left`;
      fill(failures, j.errors.map((e) => h('li', null, h('code', null, e.document_id), `: ${e.message}`)));
    };
    const final = await client().jobs.wait(job.id, { onProgress: update, pollMs: 200, maxPollMs: 1000 });
    update(final);
    cancel.remove();
    forgetFields(collection);
    progress.append(h('p', null, h('a', { href: link(collection, 'search'), class: 'button primary' }, 'Search it'), ' ', h('a', { href: link(collection, 'map'), class: 'button' }, 'See it on the map')));
  };

  main.replaceChildren(h('h1', null, `Load data into ${collection}`), input, zone, progress);
}
