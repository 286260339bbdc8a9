// Owns Qdrant's vector inputs: a plain vector, a point id (for queries: "like this point"), and
// Qdrant's Document {text, model}, which Quiver embeds itself with one of its local models (open
// source Qdrant needs a cloud inference service for it). What Quiver cannot store — named,
// sparse and multi-vectors, images, other inference objects — is refused naming the field.
// Vectors for a Cosine collection are stored normalised, as Qdrant stores them.
import type { Collection } from '../../collection/index.js';
import type { Embedders } from '../../embedding/index.js';
import { MODEL_ID_PATTERN } from '../../embedding/index.js';
import { QuiverError, createError } from '../../errors/index.js';
import { textProblem } from '../../text/well-formed.js';
import { toDocumentId } from './ids.js';

export type Resolved = { kind: 'vector'; vector: Float32Array } | { kind: 'id'; id: string };

interface DocumentInput {
  text: string;
  model: string;
  field: string;
}

function refuse(field: string, message: string): never {
  throw createError('VALIDATION_FAILED', { issues: [{ field, message }] });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function normalised(c: Collection, v: Float32Array): Float32Array {
  if (c.info.metric !== 'cosine') return v;
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return n === 0 ? v : v.map((x) => x / n);
}

/** What a vector input is, before any embedding: a vector, an id, or a document to embed. */
function classify(c: Collection, v: unknown, field: string, ids: boolean): Resolved | DocumentInput {
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every(Array.isArray)) refuse(field, 'multi-vectors are not supported');
    if (!v.every((x) => typeof x === 'number')) refuse(field, 'expected an array of numbers');
    return { kind: 'vector', vector: c.checkVector(v, field) };
  }
  if (ids && (typeof v === 'number' || typeof v === 'string')) return { kind: 'id', id: toDocumentId(v, field) };
  if (isObject(v)) {
    if ('text' in v && 'model' in v) {
      if (typeof v.text !== 'string') refuse(`${field}.text`, 'expected a string');
      const bad = textProblem(v.text);
      if (bad !== undefined) refuse(`${field}.text`, bad);
      if (v.text.trim() === '') refuse(`${field}.text`, 'must not be blank');
      if (typeof v.model !== 'string' || !MODEL_ID_PATTERN.test(v.model)) refuse(`${field}.model`, 'expected a model id such as "quiver-glove-sif-100d"');
      return { text: v.text, model: v.model, field };
    }
    if ('indices' in v) refuse(field, 'sparse vectors are not supported');
    if ('image' in v || 'object' in v) refuse(field, 'only {text, model} documents are embedded by Quiver; images and other inference objects are not');
    return refuse(field, 'named vectors are not supported: a Quiver collection has one unnamed vector');
  }
  return refuse(field, ids ? 'expected a vector, a point id or a {text, model} document' : 'expected a vector (an array of numbers) or a {text, model} document');
}

/** Embeds documents with Quiver's local models, checking each model's size against the collection's. */
async function embed(embedders: Embedders, c: Collection, docs: DocumentInput[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const byModel = new Map<string, number[]>();
  docs.forEach((d, i) => byModel.set(d.model, [...(byModel.get(d.model) ?? []), i]));
  for (const [model, positions] of byModel) {
    const first = docs[positions[0]!]!;
    let e;
    try {
      e = await embedders.forSpec({ provider: 'local', model });
    } catch (err) {
      if (err instanceof QuiverError && err.status < 500) refuse(`${first.field}.model`, `model "${model}" is not available on this server (${err.message})`);
      throw err;
    }
    if (!e) refuse(`${first.field}.model`, `model "${model}" is not available on this server`);
    if (e.dimensions !== c.info.dimension) {
      refuse(`${first.field}.model`, `model "${model}" makes ${e.dimensions}-dimension vectors but collection "${c.name}" has ${c.info.dimension}`);
    }
    const vectors = await e.embed(positions.map((i) => docs[i]!.text));
    positions.forEach((p, j) => {
      const v = vectors[j];
      if (!v) refuse(`${docs[p]!.field}.text`, `model "${model}" knows none of its words, so it has no vector`);
      out[p] = v;
    });
  }
  return out;
}

/**
 * Resolves vector inputs (vectors, {text, model} documents embedded in one batch per model, and
 * for queries point ids), in the order given. Vectors come back normalised for Cosine collections.
 */
export async function resolveVectors(embedders: Embedders, c: Collection, inputs: { value: unknown; field: string }[], ids: boolean): Promise<Resolved[]> {
  const classified = inputs.map((x) => classify(c, x.value, x.field, ids));
  const docs = classified.flatMap((x, i) => ('kind' in x ? [] : [{ ...x, i }]));
  const embedded = docs.length === 0 ? [] : await embed(embedders, c, docs);
  const out = classified.map((x): Resolved => ('kind' in x ? x : { kind: 'vector', vector: new Float32Array() }));
  docs.forEach((d, j) => (out[d.i] = { kind: 'vector', vector: embedded[j]! }));
  return out.map((r) => (r.kind === 'vector' ? { kind: 'vector', vector: normalised(c, r.vector) } : r));
}
