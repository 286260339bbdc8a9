// Owns what the Studio knows of a collection's metadata: the keys its documents actually have and
// a few values of each (from a sample of documents), for the filter builder and the map's colours.
import { client } from './api.js';

export interface FieldInfo {
  key: string;
  kind: 'number' | 'string' | 'boolean';
  values: string[];
}

const SAMPLE = 500;
const cache = new Map<string, Promise<FieldInfo[]>>();

export function metadataFields(collection: string): Promise<FieldInfo[]> {
  let p = cache.get(collection);
  if (!p) {
    p = client()
      .collection(collection)
      .list({ limit: SAMPLE })
      .then((page) => fieldsOf(page.documents.map((d) => d.metadata)));
    p.catch(() => cache.delete(collection));
    cache.set(collection, p);
  }
  return p;
}

export function forgetFields(collection: string): void {
  cache.delete(collection);
}

export function fieldsOf(metadatas: Record<string, unknown>[]): FieldInfo[] {
  const seen = new Map<string, { kinds: Set<string>; values: Map<string, number> }>();
  for (const m of metadatas) {
    for (const [k, raw] of Object.entries(m)) {
      for (const v of Array.isArray(raw) ? (raw as unknown[]) : [raw]) {
        let f = seen.get(k);
        if (!f) seen.set(k, (f = { kinds: new Set(), values: new Map() }));
        f.kinds.add(typeof v);
        const s = String(v);
        f.values.set(s, (f.values.get(s) ?? 0) + 1);
      }
    }
  }
  return [...seen.entries()]
    .map(([key, f]) => ({
      key,
      kind: (f.kinds.size === 1 && (f.kinds.has('number') || f.kinds.has('boolean')) ? [...f.kinds][0] : 'string') as FieldInfo['kind'],
      values: [...f.values.entries()].sort((a, b) => b[1] - a[1]).slice(0, 50).map(([v]) => v),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

export type Op = '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte';
export interface Condition {
  key: string;
  op: Op;
  value: string;
}

/** Conditions (all must hold) as Quiver's filter language. */
export function toFilter(conditions: Condition[], fields: FieldInfo[]): Record<string, unknown> | undefined {
  const parts = conditions
    .filter((c) => c.key !== '' && c.value !== '')
    .map((c) => {
      const kind = fields.find((f) => f.key === c.key)?.kind ?? 'string';
      const value: unknown = kind === 'number' ? Number(c.value) : kind === 'boolean' ? c.value === 'true' : c.value;
      return { [c.key]: c.op === '$eq' ? value : { [c.op]: value } };
    });
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { $and: parts };
}
