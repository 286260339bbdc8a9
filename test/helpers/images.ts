// Small real images for tests, each carrying a label that the fake Bedrock's image model reads to
// place the image in its vector space (test/helpers/fake-bedrock.ts): a PNG with a tEXt chunk
// "Description", a JPEG with a COM segment. The pixels are a solid colour; decoders open them.
import zlib from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG wants it (zlib.crc32 is Node 22+ only). */
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A width × height RGB PNG of one colour, with `label` in a tEXt "Description" chunk. */
export function labelledPng(label: string, opts: { width?: number; height?: number; rgb?: [number, number, number] } = {}): Buffer {
  const { width = 4, height = 4, rgb = [200, 30, 30] } = opts;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('tEXt', Buffer.from(`Description\u0000${label}`, 'latin1')),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG-framed file (SOI, APP0, a COM segment holding `label`, EOI): enough for format checks and the fake. */
export function labelledJpeg(label: string): Buffer {
  const segment = (marker: number, data: Buffer) => {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(data.length + 2, 0);
    return Buffer.concat([Buffer.from([0xff, marker]), len, data]);
  };
  const jfif = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), segment(0xe0, jfif), segment(0xfe, Buffer.from(label, 'latin1')), Buffer.from([0xff, 0xd9])]);
}

/** The label of an image made above (PNG tEXt "Description" or JPEG COM), or undefined. */
export function imageLabel(bytes: Buffer): string | undefined {
  if (bytes.subarray(1, 4).toString('latin1') === 'PNG') {
    for (let at = 8; at + 8 <= bytes.length; ) {
      const len = bytes.readUInt32BE(at);
      const type = bytes.subarray(at + 4, at + 8).toString('latin1');
      const data = bytes.subarray(at + 8, at + 8 + len);
      if (type === 'tEXt') {
        const text = data.toString('latin1');
        const nul = text.indexOf('\u0000');
        if (text.slice(0, nul) === 'Description') return text.slice(nul + 1);
      }
      at += 12 + len;
    }
    return undefined;
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    for (let at = 2; at + 4 <= bytes.length && bytes[at] === 0xff; ) {
      const marker = bytes[at + 1]!;
      if (marker === 0xd9 || marker === 0xda) break;
      const len = bytes.readUInt16BE(at + 2);
      if (marker === 0xfe) return bytes.subarray(at + 4, at + 2 + len).toString('latin1');
      at += 2 + len;
    }
  }
  return undefined;
}
