// Load data: files dropped on the page (or picked) become documents, loaded through ingest jobs
// as `quiver ingest` loads them (the client's ingest()), followed live: a bar, documents per
// second, the time left, and the failed documents.
// .txt and .md files are one document each (id: the file name); .json is an array of documents
// (or {documents: [...]}); .jsonl is one document per line.
import type { DocumentInput, IngestProgress, IngestResult } from '../client/index.js';
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
    // The client's bulk load, as `quiver ingest` does it: batches of 1,000 as jobs, a full queue
    // (429) waited out as Retry-After says, the jobs followed until all are finished.
    const abort = new AbortController();
    const started = performance.now();
    cancel.addEventListener('click', () =>
      busy(cancel, async () => {
        abort.abort();
        // Jobs already accepted run on in the server unless they are cancelled too.
        const open = await client().jobs.list({ collection, kind: 'ingest' });
        await Promise.all(open.jobs.filter((j) => j.status === 'queued' || j.status === 'running').map((j) => client().jobs.cancel(j.id)));
        line.textContent = `Cancelled · ${line.textContent ?? ''}`;
      }),
    );
    const update = (p: IngestProgress) => {
      const done = p.done + p.failed;
      bar.value = done;
      const secs = (performance.now() - started) / 1000;
      const rate = done / Math.max(secs, 0.001);
      const left = rate > 0 ? (docs.length - done) / rate : Infinity;
      const waiting = p.waiting ? ` · server busy, retrying in ${formatDuration(p.waiting.delayMs / 1000)}` : '';
      line.textContent = `${formatNumber(done)} / ${formatNumber(docs.length)} · ${rate.toFixed(0)} docs/s · about ${formatDuration(left)} left · ${formatNumber(p.failed)} failed${waiting}`;
    };
    let result: IngestResult;
    try {
      result = await client().collection(collection).ingest(docs, { onProgress: update, signal: abort.signal, pollMs: 200 });
    } catch (err) {
      if (!abort.signal.aborted) line.textContent = `Stopped: ${describe(err)}`;
      cancel.remove();
      return;
    }
    const secs = (performance.now() - started) / 1000;
    bar.value = result.done + result.failed;
    const failedJob = result.jobs.find((j) => j.status === 'failed');
    line.textContent = `${failedJob ? `Failed: ${failedJob.error ?? ''}` : 'Done'} · ${formatNumber(result.done)} written (${formatNumber(result.skipped)} unchanged), ${formatNumber(result.failed)} failed · ${formatDuration(secs)}`;
    fill(failures, result.errors.map((e) => h('li', null, h('code', null, e.document_id), `: ${e.message}`)));
    cancel.remove();
    forgetFields(collection);
    progress.append(h('p', null, h('a', { href: link(collection, 'search'), class: 'button primary' }, 'Search it'), ' ', h('a', { href: link(collection, 'map'), class: 'button' }, 'See it on the map')));
  };

  main.replaceChildren(h('h1', null, `Load data into ${collection}`), input, zone, progress);
}
