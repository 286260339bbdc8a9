// POST /v1/collections/{name}/answer: a question answered by a Bedrock model from the collection's
// own passages (src/query/answer.ts), as one JSON answer or, with "stream": true, as server-sent
// events: `delta` {text} as the model writes, then `done` {citations, usage, ...}, or `error`
// {status, error} if the model fails after the stream began. Errors before the first byte are ordinary
// JSON errors with their status. A client that goes away aborts the Bedrock call.
import { performance } from 'node:perf_hooks';
import type { Response, Router } from 'express';
import { QuiverError, createError } from '../../errors/index.js';
import { answer, answerStream, prepareAnswer, type AnswerEvent, type AnswerResult, type PreparedAnswer } from '../../query/index.js';
import { parse } from '../errors.js';
import type { RouteContext } from '../context.js';
import * as s from './schemas.js';
import { param } from './views.js';

/** The JSON shape of an answer's metadata (everything but the text), shared by both forms. */
function metaView(p: PreparedAnswer, r: AnswerResult, started: number) {
  return {
    citations: r.citations.map((c) => ({ n: c.n, document_id: c.documentId, chunk_index: c.chunkIndex, text: c.text })),
    usage: { input_tokens: r.usage.inputTokens, output_tokens: r.usage.outputTokens, total_tokens: r.usage.totalTokens },
    model: p.model,
    stop_reason: r.stopReason,
    passages: p.passages.length,
    trimmed: p.trimmed,
    mode: p.mode,
    took_ms: Math.round((performance.now() - started) * 10) / 10,
    ...(p.warning ? { warning: p.warning } : {}),
  };
}

/** Aborts when the client is gone before the answer was sent whole (also after a 503 REQUEST_TIMEOUT closed it). */
function abortOnClose(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

const isAbort = (err: unknown, signal: AbortSignal) => signal.aborted && (err as { name?: string }).name === 'AbortError';

export function answerRoutes(v1: Router, { collections, json, requireJson, generator, config, log }: RouteContext): void {
  v1.post('/collections/:name/answer', requireJson, json, async (req, res) => {
    const started = performance.now();
    const c = collections.get(param(req, 'name'));
    const body = parse(s.answerBody, req.body);
    const signal = abortOnClose(res);
    const prepared = await prepareAnswer(c, generator, {
      question: body.question,
      model: body.model ?? config.answerModel,
      ...(body.max_tokens !== undefined ? { maxTokens: body.max_tokens } : {}),
      ...(body.context_tokens !== undefined ? { contextTokens: body.context_tokens } : {}),
      filter: body.filter,
      mode: body.mode,
    });

    if (!body.stream) {
      try {
        const r = await answer(generator, prepared, signal);
        res.json({ answer: r.answer, ...metaView(prepared, r, started) });
      } catch (err) {
        if (isAbort(err, signal)) return; // nobody is left to tell
        throw err;
      }
      return;
    }

    let events: AsyncIterable<AnswerEvent> | Iterable<AnswerEvent>;
    try {
      events = await answerStream(generator, prepared, signal);
    } catch (err) {
      if (isAbort(err, signal)) return;
      throw err; // before the first byte: an ordinary JSON error
    }
    res.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    try {
      for await (const ev of events) {
        if (ev.type === 'delta') send('delta', { text: ev.text });
        else send('done', metaView(prepared, ev.result, started));
      }
    } catch (err) {
      if (isAbort(err, signal)) return;
      const e = err instanceof QuiverError ? err : createError('INTERNAL', {});
      if (e.code === 'INTERNAL') log.error({ err, url: req.originalUrl }, 'answer stream failed');
      else log.error({ err: e, url: req.originalUrl }, e.message);
      // `status` is what the error would have had as a JSON answer (the stream's own status was 200).
      send('error', { status: e.status, error: { code: e.code, message: e.message, ...(e.code === 'INTERNAL' || e.details === undefined ? {} : { details: e.details }) } });
    }
    res.end();
  });
}
