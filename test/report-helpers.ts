/** Test helpers for the report tests: PNG decoding and pixel statistics, figure SVG inspection. */
import { inflateSync } from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';

export interface Rgba {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row-major. */
  pixels: Uint8Array;
}

/**
 * Minimal PNG decoder (8-bit greyscale/RGB/RGBA, non-interlaced), enough for resvg's and
 * Chromium's screenshots; written from the PNG spec (W3C PNG 2nd ed., §7.3 filters).
 */
export function decodePng(buf: Uint8Array): Rgba {
  const b = Buffer.from(buf);
  if (b.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let colourType = 0;
  const idat: Buffer[] = [];
  while (pos < b.length) {
    const len = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    const data = b.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error(`unsupported PNG: bit depth ${data[8]}, interlace ${data[12]}`);
      colourType = data[9];
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const channels = ({ 0: 1, 2: 3, 6: 4, 4: 2 } as Record<number, number>)[colourType];
  if (!channels) throw new Error(`unsupported PNG colour type ${colourType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0;
      const up = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let v = line[i];
      if (filter === 1) v += a;
      else if (filter === 2) v += up;
      else if (filter === 3) v += (a + up) >> 1;
      else if (filter === 4) {
        const p = a + up - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
      }
      cur[i] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const s = x * channels;
      if (channels >= 3) {
        out[o] = cur[s];
        out[o + 1] = cur[s + 1];
        out[o + 2] = cur[s + 2];
        out[o + 3] = channels === 4 ? cur[s + 3] : 255;
      } else {
        out[o] = out[o + 1] = out[o + 2] = cur[s];
        out[o + 3] = channels === 2 ? cur[s + 1] : 255;
      }
    }
    prev = cur;
  }
  return { width, height, pixels: out };
}

/** SVG → PNG bytes (resvg, system fonts) → decoded pixels, so the PNG path itself is exercised. */
export function svgToPixels(svg: string): Rgba {
  const png = new Resvg(svg, { font: { loadSystemFonts: true }, background: 'white' }).render().asPng();
  return decodePng(png);
}

/** Fraction of pixels that differ from the top-left (background) pixel, and the grey-level variance. */
export function pixelStats(img: Rgba): { nonBackground: number; variance: number } {
  const p = img.pixels;
  const bg = [p[0], p[1], p[2]];
  const n = img.width * img.height;
  let diff = 0;
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < n; i++) {
    const r = p[4 * i];
    const g = p[4 * i + 1];
    const b = p[4 * i + 2];
    if (Math.abs(r - bg[0]) + Math.abs(g - bg[1]) + Math.abs(b - bg[2]) > 24) diff++;
    const grey = (r + g + b) / 3;
    sum += grey;
    sum2 += grey * grey;
  }
  const mean = sum / n;
  return { nonBackground: diff / n, variance: sum2 / n - mean * mean };
}

/**
 * Number of mark groups named `<name>_marks` (vega writes one `<g class="mark-… role-mark name_marks">`
 * per line series), and the number of drawn items (paths) inside them, per group.
 */
export function markGroups(svg: string, name: string): number[] {
  const counts: number[] = [];
  const re = new RegExp(`<g class="mark-\\w+ role-mark ${name}_marks"[^>]*>`, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(svg)) !== null) {
    // Items are the group's direct children, up to its closing tag (mark groups hold no nested <g>).
    const end = svg.indexOf('</g>', m.index);
    const body = svg.slice(m.index + m[0].length, end);
    counts.push((body.match(/<path\b/g) ?? []).length);
  }
  return counts;
}
