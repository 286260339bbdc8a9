// Owns the checks of an image a client sends (a document's `image`, a query's `image`): base64,
// at most the configured size, and a PNG or JPEG by its first bytes. The format is judged by the
// bytes, never by what the client says, so what is stored and sent to a model is what it claims.
import crypto from 'node:crypto';
import type { ImageData } from '../domain/types.js';
import { createError } from '../errors/index.js';

/** The default of QUIVER_MAX_IMAGE_BYTES (config/index.ts), for callers that set none (tests). */
export const DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_SOI = Buffer.from([0xff, 0xd8, 0xff]);
// Standard base64 with padding (what Buffer.toString('base64') and btoa make). Buffer.from(s,
// 'base64') would skip any other character silently, so a mangled string is refused here.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** What a format's first bytes look like, to say what was received instead. */
function describe(bytes: Buffer): string {
  if (bytes.subarray(0, 4).toString('latin1') === 'GIF8') return 'a GIF';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'a WebP image';
  if (bytes.subarray(0, 2).toString('latin1') === 'BM') return 'a BMP image';
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'a PDF';
  return `bytes starting ${bytes.subarray(0, 4).toString('hex') || '(nothing)'}`;
}

const invalid = (field: string, message: string) => createError('VALIDATION_FAILED', { issues: [{ field, message }] });

/**
 * Decodes and checks a base64 image: IMAGE_TOO_LARGE (413) over `maxBytes` (judged from the
 * base64's length before decoding), VALIDATION_FAILED naming `field` for anything else wrong.
 */
export function decodeImage(base64: string, field: string, maxBytes: number): ImageData {
  if (base64.length === 0) throw invalid(field, 'must not be empty');
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  const size = Math.floor((base64.length * 3) / 4) - padding;
  if (size > maxBytes) throw createError('IMAGE_TOO_LARGE', { field, bytes: size, limit: maxBytes });
  if (base64.startsWith('data:')) throw invalid(field, 'expected the base64 of the image alone, without a "data:" URL prefix');
  if (!BASE64.test(base64)) throw invalid(field, 'expected standard base64 (A-Z, a-z, 0-9, "+", "/", "=" padding; no spaces or line breaks)');
  const bytes = Buffer.from(base64, 'base64');
  let mime: ImageData['mime'];
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) mime = 'image/png';
  else if (bytes.length >= 3 && bytes.subarray(0, 3).equals(JPEG_SOI)) mime = 'image/jpeg';
  else throw invalid(field, `expected a PNG or JPEG image, got ${describe(bytes)}`);
  return { sha256: crypto.createHash('sha256').update(bytes).digest('hex'), mime, bytes };
}
