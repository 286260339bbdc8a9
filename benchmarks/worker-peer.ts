// One peer engine on one data set: build, then recall@10 and QPS (single thread, one query at a
// time, like the raw hnswlib-node row) at each search breadth it offers.
//  - usearch: HNSW (connectivity 16, expansion_add 200), ef = expansion_search, built with one thread;
//  - sqlite-vec: exact search in SQLite (vec0 virtual table, cosine), one point per run;
//  - lancedb: IVF_HNSW_SQ (m 16, ef_construction 200, 1 partition), ef per query.
//   node --import tsx benchmarks/worker-peer.ts --engine usearch --dataset glove --out file.json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DatasetName } from './lib/datasets.js';
import { loadDataset } from './lib/datasets.js';
import { dirBytes, log, median, peakRss, recallOf } from './lib/util.js';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string' },
    dataset: { type: 'string' },
    n: { type: 'string' },
    nq: { type: 'string' },
    reps: { type: 'string', default: '3' },
    efs: { type: 'string', default: '16,32,64,128,256' },
    'min-seconds': { type: 'string', default: '0.3' },
    'exact-queries': { type: 'string', default: '200' },
    out: { type: 'string' },
  },
});

const K = 10;

interface Point {
  ef: number | null;
  recall: number;
  qps: number;
  qps_runs: number[];
}

type Searcher = (q: number) => Promise<ArrayLike<number | bigint>> | ArrayLike<number | bigint>;

async function measure(search: Searcher, truth: Int32Array, nq: number, reps: number, minSeconds: number): Promise<{ recall: number; qps: number; runs: number[] }> {
  let recall = 0;
  for (let q = 0; q < nq; q++) recall += recallOf(truth, q, K, Array.from(await search(q), Number));
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) {
    let count = 0;
    const start = performance.now();
    const deadline = start + minSeconds * 1000;
    do {
      for (let q = 0; q < nq; q++) {
        await search(q);
        count++;
      }
    } while (performance.now() < deadline);
    runs.push(count / ((performance.now() - start) / 1000));
  }
  return { recall: recall / nq, qps: median(runs), runs };
}

async function main(): Promise<void> {
  const engineName = args.engine!;
  const name = args.dataset as DatasetName;
  const ds = loadDataset(name, { n: args.n ? Number(args.n) : undefined, nq: args.nq ? Number(args.nq) : undefined });
  const { dim, n } = ds;
  const efs = args.efs.split(',').map(Number);
  const reps = Number(args.reps);
  const minSeconds = Number(args['min-seconds']);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `quiver-bench-${engineName}-`));
  const qv = (q: number) => ds.queries.subarray(q * dim, q * dim + dim);
  const points: Point[] = [];
  let buildS = 0;
  let bytes = 0;
  log(`${engineName} on ${name}: n=${n} nq=${ds.nq}`);

  if (engineName === 'usearch') {
    const usearch = (await import('usearch')).default;
    const make = (ef: number) =>
      new usearch.Index({ dimensions: dim, metric: usearch.MetricKind.Cos, quantization: usearch.ScalarKind.F32, connectivity: 16, expansion_add: 200, expansion_search: ef, multi: false });
    const index = make(efs[0]!);
    const t0 = performance.now();
    const keys = BigUint64Array.from({ length: n }, (_, i) => BigInt(i));
    index.add(keys, ds.base, 1);
    buildS = (performance.now() - t0) / 1000;
    const file = path.join(tmp, 'usearch.bin');
    index.save(file);
    bytes = dirBytes(file);
    for (const ef of efs) {
      // expansion_search is fixed per Index object: load the saved graph with each value.
      const idx = make(ef);
      idx.load(file);
      const m = await measure((q) => idx.search(qv(q), K, 1).keys, ds.truth, ds.nq, reps, minSeconds);
      points.push({ ef, recall: +m.recall.toFixed(4), qps: +m.qps.toFixed(1), qps_runs: m.runs.map((x) => +x.toFixed(1)) });
      log(`usearch ef=${ef}: recall ${m.recall.toFixed(3)} qps ${m.qps.toFixed(0)}`);
    }
  } else if (engineName === 'sqlite-vec') {
    const Database = (await import('better-sqlite3')).default;
    const sqliteVec = await import('sqlite-vec');
    const file = path.join(tmp, 'vec.db');
    const db = new Database(file);
    sqliteVec.load(db);
    db.exec(`CREATE VIRTUAL TABLE v USING vec0(embedding float[${dim}] distance_metric=cosine)`);
    const ins = db.prepare('INSERT INTO v(rowid, embedding) VALUES (?, ?)');
    const t0 = performance.now();
    const insertAll = db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(BigInt(i), Buffer.from(ds.base.buffer, ds.base.byteOffset + i * dim * 4, dim * 4));
    });
    insertAll();
    buildS = (performance.now() - t0) / 1000;
    db.pragma('wal_checkpoint(TRUNCATE)');
    bytes = dirBytes(file);
    const stmt = db.prepare('SELECT rowid FROM v WHERE embedding MATCH ? AND k = ?').raw(true);
    // Exact search scans every vector: a subset of the queries is enough for a stable figure.
    const nq = Math.min(ds.nq, Number(args['exact-queries']));
    const m = await measure(
      (q) => (stmt.all(Buffer.from(ds.queries.buffer, ds.queries.byteOffset + q * dim * 4, dim * 4), K) as [number | bigint][]).map((r) => r[0]),
      ds.truth,
      nq,
      reps,
      minSeconds,
    );
    points.push({ ef: null, recall: +m.recall.toFixed(4), qps: +m.qps.toFixed(2), qps_runs: m.runs.map((x) => +x.toFixed(2)) });
    log(`sqlite-vec exact: recall ${m.recall.toFixed(3)} qps ${m.qps.toFixed(1)}`);
    db.close();
  } else if (engineName === 'lancedb') {
    // Not a pinned devDependency: @lancedb/lancedb 0.37.1's packages for other platforms are not
    // served by this registry, so `npm ci` cannot lock it. Install it by hand to run this peer:
    // `npm i --no-save @lancedb/lancedb@0.37.1`. The import goes through a variable so the type
    // check does not need the package.
    const spec = '@lancedb/lancedb';
    const lancedb = (await import(spec)) as LanceModule;
    const dir = path.join(tmp, 'lance');
    const db = await lancedb.connect(dir);
    const t0 = performance.now();
    let table: LanceTable | undefined;
    for (let s = 0; s < n; s += 10_000) {
      const rows = [];
      for (let i = s; i < Math.min(n, s + 10_000); i++) rows.push({ id: i, vector: Array.from(ds.base.subarray(i * dim, i * dim + dim)) });
      if (!table) table = await db.createTable('t', rows);
      else await table.add(rows);
    }
    await table!.createIndex('vector', { config: lancedb.Index.hnswSq({ distanceType: 'cosine', m: 16, efConstruction: 200, numPartitions: 1 }) });
    buildS = (performance.now() - t0) / 1000;
    bytes = dirBytes(dir);
    const qArrays = Array.from({ length: ds.nq }, (_, q) => Array.from(qv(q)));
    for (const ef of efs) {
      const m = await measure(
        async (q) => {
          const rows = (await table!.vectorSearch(qArrays[q]!).distanceType('cosine').ef(ef).limit(K).select(['id', '_distance']).toArray()) as { id: number }[];
          return rows.map((r) => r.id);
        },
        ds.truth,
        ds.nq,
        reps,
        minSeconds,
      );
      points.push({ ef, recall: +m.recall.toFixed(4), qps: +m.qps.toFixed(1), qps_runs: m.runs.map((x) => +x.toFixed(1)) });
      log(`lancedb ef=${ef}: recall ${m.recall.toFixed(3)} qps ${m.qps.toFixed(0)}`);
    }
  } else {
    throw new Error(`unknown engine ${engineName}`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  const out = {
    engine: engineName,
    dataset: name,
    n,
    nq: ds.nq,
    dim,
    k: K,
    curve: points,
    build_s: +buildS.toFixed(2),
    bytes_per_vector: +(bytes / n).toFixed(1),
    peak_rss_bytes: peakRss(),
  };
  if (args.out) fs.writeFileSync(args.out, JSON.stringify(out, null, 2));
  else console.log(JSON.stringify(out, null, 2));
}

/** The part of @lancedb/lancedb this benchmark uses. */
interface LanceQuery {
  distanceType(d: string): LanceQuery;
  ef(ef: number): LanceQuery;
  limit(k: number): LanceQuery;
  select(cols: string[]): LanceQuery;
  toArray(): Promise<unknown[]>;
}
interface LanceTable {
  add(rows: object[]): Promise<unknown>;
  createIndex(column: string, opts: { config: unknown }): Promise<unknown>;
  vectorSearch(v: number[]): LanceQuery;
}
interface LanceModule {
  connect(dir: string): Promise<{ createTable(name: string, rows: object[]): Promise<LanceTable> }>;
  Index: { hnswSq(opts: object): unknown };
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
