// The HTTP settings every AWS SDK client in Quiver shares (Titan and SageMaker embeddings, Converse
// answers): HTTP/1.1 keep-alive, which every endpoint (and the local fakes the tests use) speaks
// and which InvokeModel, InvokeEndpoint and ConverseStream's event stream need no more than; a
// socket cap when the caller bounds its own concurrency; and a timeout that fails a call whose
// socket went silent, so a hung endpoint cannot hold a job or a request forever. Returned as
// options, not a handler, so a caller that loads the SDK lazily keeps doing so.
import type { NodeHttpHandlerOptions } from '@smithy/node-http-handler';

export function awsHttpOptions(opts: { timeoutMs: number; concurrency?: number }): NodeHttpHandlerOptions {
  const agent = { keepAlive: true, ...(opts.concurrency !== undefined ? { maxSockets: opts.concurrency } : {}) };
  return {
    httpAgent: agent,
    httpsAgent: agent,
    // Milliseconds until the response begins (its headers), not until its body ends: a streamed
    // answer may write for longer. Without throwOnRequestTimeout the handler only logs a warning
    // and keeps waiting.
    requestTimeout: opts.timeoutMs,
    throwOnRequestTimeout: true,
  };
}
