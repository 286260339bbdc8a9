// `quiver ask <collection> "<question>"`: POST /v1/collections/{name}/answer through the typed
// client. The answer is written to stdout as the model writes it (server-sent events) when stdout
// is a terminal or with --stream, whole otherwise; the passages it cites follow, one a line
// ("[n] document#chunk  text"). --json prints the server's JSON answer. Exit codes: 0 answered,
// 1 the server refused or the model failed (its message is printed), 2 bad arguments or server unreachable.
import { Command, Option } from 'commander';
import type { AnswerInput, Citation } from '../client/index.js';
import { CliError, connect, connectionOptions, filterOption, intArg, runCommand, UsageError, usageErrorsExit2 } from './command.js';

interface AskOptions {
  url: string;
  apiKey?: string;
  model?: string;
  maxTokens?: number;
  mode?: 'vector' | 'keyword' | 'hybrid';
  filter?: string;
  stream?: boolean;
  json?: boolean;
}

export function askCommand(): Command {
  const cmd = new Command('ask')
    .description("answer a question from a collection's passages with the server's generation model (Amazon Bedrock), citing them")
    .argument('<collection>', 'the collection to answer from')
    .argument('<question>', 'the question')
    .option('--model <id>', 'Bedrock model id (default: the server\'s QUIVER_ANSWER_MODEL, amazon.nova-micro-v1:0)')
    .option('--max-tokens <n>', "the answer's length limit in tokens", intArg(1, 1_000_000))
    .addOption(new Option('--mode <mode>', 'search mode for the passages').choices(['vector', 'keyword', 'hybrid']))
    .option('--filter <json>', 'metadata filter as JSON, e.g. \'{"kind": "faq"}\'')
    .option('--stream', 'write the answer as it arrives (the default when stdout is a terminal)')
    .option('--no-stream', 'write the answer once it is complete')
    .option('--json', "print the server's JSON answer (never streamed)");
  return usageErrorsExit2(connectionOptions(cmd))
    .addHelpText('after', '\nExit status: 0 answered, 1 the server refused or the model failed (its message is\nprinted), 2 bad arguments or server unreachable.')
    .action((collection: string, question: string, opts: AskOptions) => runCommand('ask', () => ask(collection, question, opts)));
}

async function ask(collection: string, question: string, opts: AskOptions): Promise<number> {
  const filter = filterOption(opts.filter);
  if (question.trim() === '') throw new UsageError('the question is empty');
  const input: AnswerInput = {
    question,
    ...(opts.model ? { model: opts.model } : {}),
    ...(opts.maxTokens !== undefined ? { max_tokens: opts.maxTokens } : {}),
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(filter === undefined ? {} : { filter }),
  };
  const handle = connect(opts).collection(collection);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(await handle.answer(input), null, 2)}\n`);
    return 0;
  }
  const stream = opts.stream ?? process.stdout.isTTY === true;
  if (!stream) {
    const r = await handle.answer(input);
    if (r.warning) process.stderr.write(`quiver ask: warning: ${r.warning}\n`);
    process.stdout.write(`${r.answer}\n${formatCitations(r.citations)}`);
    return 0;
  }
  let ended = false;
  for await (const ev of handle.answerStream(input)) {
    if (ev.type === 'delta') process.stdout.write(ev.text);
    else {
      ended = true;
      if (ev.warning) process.stderr.write(`quiver ask: warning: ${ev.warning}\n`);
      process.stdout.write(`\n${formatCitations(ev.citations)}`);
    }
  }
  if (!ended) throw new CliError('the answer stream ended before the server said it was complete', 1);
  return 0;
}

/** "Sources:" and one line per cited passage, its text on one line cut to 100 characters. */
export function formatCitations(citations: Citation[]): string {
  if (citations.length === 0) return '\n(the answer cites no passage)\n';
  const lines = citations.map((c) => {
    // eslint-disable-next-line no-control-regex -- control characters (escape sequences) are removed from text for the terminal
    const text = c.text.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
    return `[${c.n}] ${c.document_id}#${c.chunk_index}  ${text.length > 100 ? `${text.slice(0, 99)}…` : text}`;
  });
  return `\nSources:\n${lines.join('\n')}\n`;
}
