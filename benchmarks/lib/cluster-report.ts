// The "Cluster mode" section of BENCHMARKS.md from benchmarks/cluster.ts's JSON. The shape is
// declared here once: cluster.ts writes it (checked with `satisfies`), report.ts reads it.

export interface Latency {
  n: number;
  p50_ms: number;
  p99_ms: number;
}

export interface WriteLatency {
  cluster_202: Latency;
  standalone_200: Latency;
  ratio_p50: number;
  ratio_p99: number;
  last_seq: number;
}

export interface IngestRow {
  setup: string;
  measured: boolean;
  reason?: string;
  docs_per_s?: number;
  seconds?: number;
  bedrock_calls_per_doc?: number;
  bedrock_max_in_flight?: number;
  ratio_to_standalone?: number;
}

export interface ClusterResult {
  measured_at: string;
  seconds: number;
  nats_server: string;
  config: { dim: number; batch: number; writeBatches: number; lagSeconds: number; lagWriters: number; lagPacedShare: number; queryDocs: number; querySeconds: number; queryReps: number; concurrency: number; ingestDocs: number; ingestWriters: number; bedrockMs: [number, number]; budgetS: number };
  processes: string;
  write: { vectors: WriteLatency; text: WriteLatency };
  /** Saturating, then paced at a share of the apply rate the saturating run measured. */
  lag: {
    load: string;
    seconds: number;
    messages: number;
    documents_per_s: number;
    ack: Latency;
    behind_messages: { samples: number; p50: number; p99: number; max: number };
    visible_after_202: Latency;
    drain_after_load_ms: number;
    /** Both replicas' apply rate over the load and the catch-up after it. */
    applied_documents_per_s: number;
  }[];
  query: { documents: number; concurrency: number; seconds_per_run: number; reps: number; rows: ({ setup: string; qps: number; qps_runs: number[]; ratio_to_standalone: number } & Latency)[] };
  ingest: { documents: number; batch: number; writers: number; model: string; dimensions: number; bedrock_latency_ms: [number, number]; bedrock_concurrency_per_process: number; rows: IngestRow[] };
  machine: Record<string, unknown>;
}

const fmt = (x: number | undefined, digits = 0): string => (x === undefined || Number.isNaN(x) ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const lat = (l: Latency) => `${fmt(l.p50_ms, 1)} / ${fmt(l.p99_ms, 1)}`;

export function clusterSection(raw: unknown, p: (s?: string) => void): void {
  p('## Cluster mode (benchmarks/cluster.ts)');
  p();
  const r = raw as ClusterResult | null | undefined;
  if (!r?.write?.vectors || !r.query?.rows) {
    p('Not measured in this run: `npm run bench -- --only cluster` (opt-in; needs `nats-server`, ≈ 2–5 min).');
    p();
    return;
  }
  const m = r.machine as { cpu?: string; cores?: number; load_average_at_start?: number[] };
  const c = r.config;
  p(
    `Measured ${r.measured_at.slice(0, 16).replace('T', ' ')} UTC in ${fmt(r.seconds / 60, 1)} min with \`npm run bench -- --only cluster\`, on ${m.cpu ?? 'this machine'}, ${fmt(m.cores)} cores (load average at start ${(m.load_average_at_start ?? []).join(' / ')}). Processes: ${r.processes}; ${r.nats_server}, streams R=3. Every cluster figure has its standalone baseline measured in the same minutes, interleaved or in rotating order.`,
  );
  p();
  p(
    '**What these numbers show, and what they do not.** Every node — three NATS servers, the api node, two replicas, the standalone server, the workers, the load generator and the fake Bedrock — shares the same cores, so nothing here is a measure of scaling out: a second replica brings no CPU of its own, only a second process competing for the same two cores, and a JetStream ack crosses loopback, not a network. What the figures do show is the cost of the cluster\'s own work (the publish and R=3 ack on the write path, applying the log on the replicas, the lag a reader sees) against standalone on equal hardware, and, for remote-bound embedding, the part that does scale with processes on any machine: calls to Bedrock in flight, which wait rather than compute.',
  );
  p();
  p(`**Write latency** — ${fmt(c.writeBatches)} PUTs of ${fmt(c.batch)} documents, one at a time, each batch sent to the api node and to the standalone server in turn (which goes first alternates).`);
  p();
  p('| batch | cluster api node: 202 after the JetStream ack, p50 / p99 ms | standalone: 200 after commit, p50 / p99 ms | cluster ÷ standalone, p50 / p99 |');
  p('|---|---|---|---|');
  p(`| ${fmt(c.batch)} × ${fmt(c.dim)}-d client vectors | ${lat(r.write.vectors.cluster_202)} | ${lat(r.write.vectors.standalone_200)} | ${fmt(r.write.vectors.ratio_p50, 2)} / ${fmt(r.write.vectors.ratio_p99, 2)} |`);
  p(`| ${fmt(c.batch)} texts, built-in model (the api node does not embed; standalone embeds before it commits) | ${lat(r.write.text.cluster_202)} | ${lat(r.write.text.standalone_200)} | ${fmt(r.write.text.ratio_p50, 2)} / ${fmt(r.write.text.ratio_p99, 2)} |`);
  p();
  p(
    `**Replica lag under a sustained load** — ${fmt(c.batch)} × ${fmt(c.dim)}-d batches on the api node for ${fmt(c.lagSeconds)} s: first saturating (${fmt(c.lagWriters)} closed-loop writers and a probe writer whose every write is read back on a replica, alternating, with \`min_seq\`), then paced, open loop, at ${fmt(c.lagPacedShare * 100)} % of the apply rate the saturating run measured, every write read back. "Behind" is, every 200 ms on each replica, the highest sequence acknowledged so far minus the replica's applied sequence (\`/metrics\`).`,
  );
  p();
  p('| load | acknowledged documents/s | 202 p50 / p99 ms | messages behind p50 / p99 / max | 202 → readable on a replica, p50 / p99 ms | catch-up after the load | replicas applied documents/s |');
  p('|---|---|---|---|---|---|---|');
  for (const l of Array.isArray(r.lag) ? r.lag : []) {
    p(`| ${l.load} | ${fmt(l.documents_per_s)} (${fmt(l.messages)} messages) | ${lat(l.ack)} | ${fmt(l.behind_messages.p50)} / ${fmt(l.behind_messages.p99)} / ${fmt(l.behind_messages.max)} | ${lat(l.visible_after_202)} (${fmt(l.visible_after_202.n)} reads) | ${fmt(l.drain_after_load_ms / 1000, 1)} s | ${fmt(l.applied_documents_per_s)} |`);
  }
  p();
  const qy = r.query;
  p(`**Query QPS** — ${fmt(qy.documents)} documents of ${fmt(c.dim)} dimensions, vector queries with k = 10, closed loop at concurrency ${fmt(qy.concurrency)}, ${fmt(qy.seconds_per_run)} s a run, ${fmt(qy.reps)} run(s) per setup in rotating order (median); with two replicas the client sends request i to replica i mod 2. Every run's QPS is listed, so the spread between runs of one setup can be set against the difference between setups.`);
  p();
  p('| setup | QPS (runs) | × standalone | p50 / p99 ms |');
  p('|---|---|---|---|');
  for (const x of qy.rows) p(`| ${x.setup} | ${fmt(x.qps)} (${x.qps_runs.map((v) => fmt(v)).join(', ')}) | ${fmt(x.ratio_to_standalone, 2)} | ${lat(x)} |`);
  p();
  const ing = r.ingest;
  p(
    `**Remote-bound ingest** — ${fmt(ing.documents)} texts in ${fmt(ing.batch)}-document PUTs from ${fmt(ing.writers)} clients into a collection embedded by ${ing.model} (${fmt(ing.dimensions)}-d) on a fake Bedrock answering each call after ${fmt(ing.bedrock_latency_ms[0])}–${fmt(ing.bedrock_latency_ms[1])} ms (uniform), \`QUIVER_BEDROCK_CONCURRENCY=${fmt(ing.bedrock_concurrency_per_process)}\` per process. Documents/s is from the first PUT to the last document answered (standalone) or holding its vector on both replicas (cluster).`,
  );
  p();
  p('| setup | documents/s | × standalone | Bedrock calls a document | most calls in flight | seconds |');
  p('|---|---|---|---|---|---|');
  for (const x of ing.rows) {
    if (!x.measured) p(`| ${x.setup} | not measured: ${x.reason ?? 'unknown'} | | | | |`);
    else p(`| ${x.setup} | ${fmt(x.docs_per_s)} | ${fmt(x.ratio_to_standalone, 2)} | ${fmt(x.bedrock_calls_per_doc, 2)} | ${fmt(x.bedrock_max_in_flight)} | ${fmt(x.seconds, 1)} |`);
  }
  p();
}
