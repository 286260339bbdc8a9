// Reading `quiver ingest`'s inputs: files or folders (walked recursively, hidden entries
// skipped) of
//   .txt, .md    one document each: id = the path relative to the folder given (the file name
//                for a file given directly, "/" as separator), text = the content,
//                metadata = {source: the path};
//   .json        an array of documents or one document;
//   .jsonl       one document per line (blank lines are skipped);
// a document being {id, text?, vector?, metadata?}. Every document is checked against the
// server's own schema (src/api/schemas.ts), and a problem is reported as file:line, so a bad
// input is found before anything is sent.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { z } from 'zod';
import type { documentInput } from '../api/v1/schemas.js';
import { UsageError } from './command.js';

export type DocumentInput = z.output<typeof documentInput>;
export type InputKind = 'text' | 'json' | 'jsonl';

export interface InputFile {
  /** The path to show and to record as `source`: the path given, joined with the path inside it. */
  path: string;
  kind: InputKind;
  /** For .txt and .md: the document id. */
  id: string;
}

/** One document read from a file, or a problem with it; `where` is "file:line" (or "file"). */
export type InputItem = { ok: true; document: DocumentInput; where: string } | { ok: false; where: string; message: string };

const KINDS: Record<string, InputKind> = { '.txt': 'text', '.md': 'text', '.json': 'json', '.jsonl': 'jsonl' };

function kindOf(file: string): InputKind | undefined {
  return KINDS[path.extname(file).toLowerCase()];
}

const toId = (rel: string) => rel.split(path.sep).join('/');

/**
 * Lists the input files under `paths`, in a stable order (each folder's entries sorted by name).
 * A path that does not exist, or a file given by name with another extension, is a UsageError;
 * inside folders, other files and hidden entries (".git", ".env") are passed over. A file reached
 * twice (given twice, or through a symlink) is read once.
 */
export async function findInputs(paths: string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  const seenFiles = new Set<string>();
  const add = async (file: InputFile) => {
    const real = await fs.promises.realpath(file.path);
    if (seenFiles.has(real)) return;
    seenFiles.add(real);
    out.push(file);
  };
  for (const given of paths) {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(given);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(code === 'ENOENT' ? `${given}: no such file or folder` : `${given}: cannot read (${code ?? String(err)})`);
    }
    if (st.isDirectory()) {
      const visited = new Set<string>();
      const walk = async (dir: string, rel: string): Promise<void> => {
        const real = await fs.promises.realpath(dir);
        if (visited.has(real)) return; // a symlink loop
        visited.add(real);
        let entries: string[];
        try {
          entries = (await fs.promises.readdir(dir)).sort();
        } catch (err) {
          throw new UsageError(`${dir}: cannot read the folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        }
        for (const name of entries) {
          if (name.startsWith('.')) continue;
          const full = path.join(dir, name);
          const childRel = rel === '' ? name : path.join(rel, name);
          let child: fs.Stats;
          try {
            child = await fs.promises.stat(full);
          } catch {
            continue; // a dangling symlink
          }
          if (child.isDirectory()) await walk(full, childRel);
          else if (child.isFile()) {
            const kind = kindOf(name);
            if (kind) await add({ path: full, kind, id: toId(childRel) });
          }
        }
      };
      await walk(path.normalize(given), '');
    } else if (st.isFile()) {
      const kind = kindOf(given);
      if (!kind) throw new UsageError(`${given}: unsupported file type "${path.extname(given)}" (expected .txt, .md, .json or .jsonl)`);
      await add({ path: path.normalize(given), kind, id: path.basename(given) });
    } else {
      throw new UsageError(`${given}: not a file or folder`);
    }
  }
  if (out.length === 0) throw new UsageError(`no .txt, .md, .json or .jsonl files in ${paths.join(', ')}`);
  return out;
}

let schema: Promise<typeof documentInput> | undefined;
/** The server's document schema, loaded on first use (it pulls in the server's modules). */
function documentSchema(): Promise<typeof documentInput> {
  return (schema ??= import('../api/v1/schemas.js').then((m) => m.documentInput));
}

/** Checks a document like the server does; returns the problem, naming the field, or the document. */
async function check(value: unknown, where: string): Promise<InputItem> {
  const r = (await documentSchema()).safeParse(value);
  if (r.success) return { ok: true, document: r.data, where };
  const problems = r.error.issues.map((i) => {
    const field = i.path.map(String).join('.');
    const message = i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message;
    return field ? `${field}: ${message}` : message;
  });
  return { ok: false, where, message: problems.join('; ') };
}

const stripBom = (s: string) => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);

/**
 * Reads one input file's documents in order. A problem (unreadable file, invalid JSON, a
 * document the server would refuse) is yielded as an item rather than thrown, so the caller can
 * report several at once; a .json file that does not parse yields one problem and nothing else.
 */
export async function* readInput(file: InputFile): AsyncGenerator<InputItem> {
  try {
    if (file.kind === 'jsonl') {
      yield* readJsonl(file);
      return;
    }
    const content = stripBom(await fs.promises.readFile(file.path, 'utf8'));
    if (file.kind === 'text') {
      // An empty file has nothing to embed: the caller is told, no document is made.
      if (content.trim() === '') return;
      yield await check({ id: file.id, text: content, metadata: { source: file.path } }, file.path);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (err) {
      const at = scanJson(content).error;
      if (!at) {
        yield { ok: false, where: file.path, message: `invalid JSON: ${(err as Error).message}` };
        return;
      }
      const { line, column } = locator(content)(at.offset);
      yield { ok: false, where: `${file.path}:${line}:${column}`, message: `invalid JSON: ${at.message}` };
      return;
    }
    const locate = locator(content);
    if (Array.isArray(value)) {
      const starts = scanJson(content).elements;
      for (let i = 0; i < value.length; i++) {
        const at = starts[i];
        yield await check(value[i], `${file.path}:${at === undefined ? `[${i}]` : locate(at).line}`);
      }
    } else {
      yield await check(value, `${file.path}:${locate(content.length - content.trimStart().length).line}`);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    yield { ok: false, where: file.path, message: `cannot read the file (${code ?? (err as Error).message})` };
  }
}

async function* readJsonl(file: InputFile): AsyncGenerator<InputItem> {
  const lines = readline.createInterface({ input: fs.createReadStream(file.path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const raw of lines) {
    n++;
    const line = n === 1 ? stripBom(raw) : raw;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      const at = scanJson(line).error;
      yield at
        ? { ok: false, where: `${file.path}:${n}:${at.offset + 1}`, message: `invalid JSON: ${at.message}` }
        : { ok: false, where: `${file.path}:${n}`, message: `invalid JSON: ${(err as Error).message}` };
      continue;
    }
    yield await check(value, `${file.path}:${n}`);
  }
}

export interface ScanResult {
  files: number;
  documents: number;
  /** Documents in each input file, in order (so a batch can be read again from where it starts). */
  perFile: number[];
  /** .txt and .md files with no text (no document is made for them). */
  empty: string[];
}

/** The most problems listed before reading stops. */
const MAX_PROBLEMS = 20;

/**
 * Reads every input once to check it, keeping only the ids: nothing is sent until all of it is
 * known to be valid. Throws a UsageError listing the problems (file:line: message), including
 * an id used twice.
 */
export async function scanInputs(files: InputFile[]): Promise<ScanResult> {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  const empty: string[] = [];
  let documents = 0;
  const perFile: number[] = [];
  outer: for (const file of files) {
    let any = false;
    perFile.push(0);
    for await (const item of readInput(file)) {
      any = true;
      if (!item.ok) problems.push(`${item.where}: ${item.message}`);
      else {
        const first = seen.get(item.document.id);
        if (first !== undefined) problems.push(`${item.where}: document id ${JSON.stringify(item.document.id)} is also used at ${first}`);
        else seen.set(item.document.id, item.where);
        documents++;
        perFile[perFile.length - 1]!++;
      }
      if (problems.length >= MAX_PROBLEMS) break outer;
    }
    if (!any && file.kind === 'text') empty.push(file.path);
  }
  if (problems.length > 0) {
    const more = problems.length >= MAX_PROBLEMS ? `\n  (stopped after ${MAX_PROBLEMS} problems)` : '';
    throw new UsageError(`invalid input, nothing was sent:\n  ${problems.join('\n  ')}${more}`);
  }
  return { files: files.length, documents, perFile, empty };
}

/** Maps character offsets in `text` to 1-based line and column (binary search over the line starts). */
function locator(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  };
}

/**
 * A JSON syntax checker that knows where it is: the offset and reason of the first error (Node
 * 20's JSON.parse often gives neither), and the start offset of each element of a top-level array.
 */
export function scanJson(s: string): { error?: { offset: number; message: string }; elements: number[] } {
  const elements: number[] = [];
  let i = 0;
  class Stop extends Error {}
  let error: { offset: number; message: string } | undefined;
  const fail = (message: string): never => {
    error = { offset: i, message };
    throw new Stop();
  };
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= s.length) fail('unterminated string');
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        const e = s[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) fail('invalid \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail('invalid escape in a string');
      } else if (c < 0x20) fail('unescaped control character in a string (a line break must be written \\n)');
      else i++;
    }
  };
  const value = (depth: number): void => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      ws();
      if (s[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (s[i] !== '"') fail('expected a property name in double quotes');
        string();
        ws();
        if (s[i] !== ':') fail("expected ':' after a property name");
        i++;
        value(depth + 1);
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === '}') {
          i++;
          return;
        } else fail("expected ',' or '}' after a property value");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (s[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (depth === 0) elements.push(i);
        value(depth + 1);
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === ']') {
          i++;
          return;
        } else fail("expected ',' or ']' after an array element");
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(s)) fail('invalid number');
      i = NUMBER.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (s.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    fail(c === undefined ? 'unexpected end of input' : `unexpected ${JSON.stringify(c)}`);
  };
  try {
    value(0);
    ws();
    if (i < s.length) fail('unexpected text after the JSON value');
  } catch (err) {
    if (err instanceof RangeError) return { error: { offset: i, message: 'nested too deeply' }, elements };
    if (!(err instanceof Stop)) throw err;
  }
  return error ? { error, elements } : { elements };
}
