// Diagnostic for benchmarks/FINDINGS.md (ingest): how much CPU onnxruntime's intra-op thread pool
// takes for the default static model, with the session options local-worker.mjs uses (none)
// against one intra-op thread and against no spin-waiting. One transformers.js pipeline on this
// thread embeds batches of 64 texts, with and without a 30 ms busy pause after each batch (the
// server's main-thread work between two embedding rounds); the CPU of the other threads of the
// process (Linux /proc) is onnxruntime's pool, working or spin-waiting.
//   npx tsx benchmarks/lib/ort-threads.ts
import fs from 'node:fs';
import { env, pipeline } from '@huggingface/transformers';
import { BUILTIN_MODELS_DIR, DEFAULT_LOCAL_MODEL } from '../../src/config/index.js';
import { englishDocuments } from './text.js';

/** utime + stime in seconds of /proc/<pid>/stat or of a thread's stat file. */
const cpuSeconds = (file: string) => {
  const rest = fs.readFileSync(file, 'utf8').split(') ').pop()!.split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
};
const cpu = () => ({ all: cpuSeconds(`/proc/${process.pid}/stat`), main: cpuSeconds(`/proc/${process.pid}/task/${process.pid}/stat`) });

type Embed = (texts: string[], opts: { pooling: 'mean'; normalize: boolean }) => Promise<unknown>;

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = BUILTIN_MODELS_DIR;
const texts = englishDocuments(4096, 31);
const variants: [string, Record<string, unknown> | undefined][] = [
  ['default session options (as local-worker.mjs)', undefined],
  ['intraOpNumThreads: 1', { intraOpNumThreads: 1 }],
  ['allow_spinning: 0', { extra: { session: { intra_op: { allow_spinning: '0' } } } }],
];
for (const [name, sessionOptions] of variants) {
  const pipe = (await pipeline('feature-extraction', DEFAULT_LOCAL_MODEL, { dtype: 'fp32', local_files_only: true, ...(sessionOptions ? { session_options: sessionOptions } : {}) })) as unknown as Embed & { dispose?: () => Promise<void> };
  await pipe(texts.slice(0, 64), { pooling: 'mean', normalize: true });
  for (const pauseMs of [0, 30]) {
    const c0 = cpu();
    const t0 = performance.now();
    for (let i = 0; i < texts.length; i += 64) {
      await pipe(texts.slice(i, i + 64), { pooling: 'mean', normalize: true });
      const s = performance.now();
      while (performance.now() - s < pauseMs) {
        // the main thread busy, as with a commit and HNSW inserts
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const c1 = cpu();
    const others = (c1.all - c1.main - (c0.all - c0.main)) / seconds;
    process.stdout.write(`${name}, busy pause ${pauseMs} ms: ${(texts.length / seconds).toFixed(0)} texts/s; other threads ${others.toFixed(2)} cores, main thread ${((c1.main - c0.main) / seconds).toFixed(2)}\n`);
  }
  await pipe.dispose?.();
}
