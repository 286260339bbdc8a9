// `quiver search <collection> "<text>"`: one POST /v1/collections/{name}/query, printed as a
// table (rank, score, id, the matching chunk's text cut to the terminal's width), or as the
// server's JSON answer with --json. Exit codes: 0 answered (with or without hits), 1 the server
// refused (its message is printed), 2 bad arguments or server unreachable.
import { Command, Option } from 'commander';
import type { Hit } from '../client/index.js';
import { CliError, connect, connectionOptions, filterOption, intArg, runCommand, UsageError, usageErrorsExit2 } from './command.js';

interface SearchOptions {
  url: string;
  apiKey?: string;
  k: number;
  mode?: 'vector' | 'keyword' | 'hybrid';
  filter?: string;
  json?: boolean;
}


export function searchCommand(): Command {
  const cmd = new Command('search')
    .description('search a collection by text and print the best hits')
    .argument('<collection>', 'the collection to search')
    .argument('<text>', 'what to look for')
    .option('-k <n>', 'number of hits (1-1000)', intArg(1, 1000), 10)
    .addOption(new Option('--mode <mode>', 'search mode (default: the server\'s, hybrid for collections with a model)').choices(['vector', 'keyword', 'hybrid']))
    .option('--filter <json>', 'metadata filter as JSON, e.g. \'{"kind": {"$in": ["pet", "food"]}}\'')
    .option('--json', "print the server's answer as JSON");
  return usageErrorsExit2(connectionOptions(cmd))
    .addHelpText('after', '\nExit status: 0 answered (with or without hits), 1 the server refused (its message is\nprinted), 2 bad arguments or server unreachable.')
    .action((collection: string, text: string, opts: SearchOptions) => runCommand('search', () => search(collection, text, opts)));
}

async function search(collection: string, text: string, opts: SearchOptions): Promise<number> {
  const filter = filterOption(opts.filter);
  if (text.trim() === '') throw new UsageError('the search text is empty');
  const client = connect(opts);
  const answer = await client.collection(collection).query({ text, k: opts.k, ...(opts.mode ? { mode: opts.mode } : {}), ...(filter === undefined ? {} : { filter }) });
  // The client trusts the server's types; a JSON answer from something else is caught here.
  if (!Array.isArray(answer.hits)) throw new CliError(`${client.url} answered the query with an unexpected body; is it a Quiver server?`, 1);
  if (opts.json) {
    // As the server sent it, field order included.
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return 0;
  }
  if (answer.warning) process.stderr.write(`quiver search: warning: ${answer.warning}\n`);
  process.stdout.write(formatHits(answer.hits, terminalWidth()));
  return 0;
}

function terminalWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : 120;
}

/** The widest id column before ids are cut. */
const MAX_ID_WIDTH = 40;

/** One line per hit, each at most `width` columns: rank, score (3 decimals), id, text. */
export function formatHits(hits: Pick<Hit, 'id' | 'score' | 'text'>[], width: number): string {
  if (hits.length === 0) return 'no hits\n';
  const rows = hits.map((h, i) => ({ rank: String(i + 1), score: h.score.toFixed(3), id: clean(h.id), text: clean(h.text ?? '') }));
  const rankW = Math.max(4, ...rows.map((r) => r.rank.length));
  const scoreW = Math.max(5, ...rows.map((r) => r.score.length));
  const idW = Math.min(MAX_ID_WIDTH, Math.max(2, ...rows.map((r) => displayWidth(r.id))));
  const textW = Math.max(10, width - rankW - scoreW - idW - 6);
  const line = (rank: string, score: string, id: string, txt: string) =>
    `${rank.padStart(rankW)}  ${score.padStart(scoreW)}  ${pad(fit(id, idW), idW)}  ${fit(txt, textW)}`.trimEnd();
  return `${[line('rank', 'score', 'id', 'text'), ...rows.map((r) => line(r.rank, r.score, r.id, r.text))].join('\n')}\n`;
}

/** One line of plain text: whitespace runs become one space, control characters (escape sequences) go. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return s.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
}

/** Columns a code point takes in a terminal: 0 for combining marks, 2 for wide (CJK, emoji), else 1. */
function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (/\p{Mn}|\p{Me}/u.test(ch)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/** Cuts `s` to at most `width` columns, ending in "…" when cut. */
function fit(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

const pad = (s: string, width: number) => s + ' '.repeat(Math.max(0, width - displayWidth(s)));
