// Owns the map's drawing: tens of thousands of points on one 2-D canvas (no library: points are
// small squares filled colour by colour, ~10 ms for 20,000 on a laptop), pan (drag, arrows), zoom
// (wheel, +/-), hover and click found through a grid over the data, and selection by box or lasso
// (the drag tool, or shift + drag for a box). From the keyboard: arrows pan, +/- zoom, 0 fits, the
// point nearest the centre is the cursor (ringed, its tooltip shown) that Enter opens, and S
// selects every point in view (frame a region with the arrows and zoom, then S). The page decides
// what the colours mean; this only draws indices into a palette.
export interface ScatterEvents {
  hover(index: number | null, clientX: number, clientY: number): void;
  click(index: number): void;
  select(indices: number[]): void;
}

/** What a drag does: move the view, or select the points inside a box or a drawn outline. */
export type DragTool = 'pan' | 'box' | 'lasso';

const GRID = 128;
const HIT_PX = 6;

export class Scatter {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private xs: Float32Array = new Float32Array(0);
  private ys: Float32Array = new Float32Array(0);
  /** Palette index per point; 0xffff: not coloured (muted). */
  private colors: Uint16Array = new Uint16Array(0);
  private palette: string[] = [];
  private muted = '#999';
  private highlighted = new Set<number>();
  private selected = new Set<number>();
  private view = { cx: 0, cy: 0, scale: 1 };
  private bounds = { minX: 0, minY: 0, maxX: 1, maxY: 1 };
  private grid: number[][] = [];
  private frame = 0;
  private drag: { x: number; y: number; cx: number; cy: number; tool: DragTool; moved: boolean } | undefined;
  private box: { x0: number; y0: number; x1: number; y1: number } | undefined;
  /** The outline being drawn by the lasso, in canvas px. */
  private lasso: { x: number; y: number }[] | undefined;
  tool: DragTool = 'pan';
  /** The keyboard's point: the one nearest the centre of the view, while the canvas has focus. */
  private cursor: number | null = null;
  /** Points drawn by the last frame, for tests and the bench. */
  drawn = 0;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly events: ScatterEvents,
  ) {
    this.canvas = canvas;
    const ctx = canvas.getContext('2d', { willReadFrequently: false });
    if (!ctx) throw new Error('this browser cannot draw on a canvas');
    this.ctx = ctx;
    new ResizeObserver(() => this.resize()).observe(canvas);
    canvas.addEventListener('pointerdown', (e) => this.onDown(e));
    canvas.addEventListener('pointermove', (e) => this.onMove(e));
    canvas.addEventListener('pointerup', (e) => this.onUp(e));
    canvas.addEventListener('pointerleave', () => this.events.hover(null, 0, 0));
    canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    canvas.addEventListener('keydown', (e) => this.onKey(e));
    canvas.addEventListener('focus', () => this.pickCursor());
    canvas.addEventListener('blur', () => {
      this.cursor = null;
      this.events.hover(null, 0, 0);
      this.redraw();
    });
  }

  setPoints(xs: Float32Array, ys: Float32Array): void {
    this.xs = xs;
    this.ys = ys;
    this.colors = new Uint16Array(xs.length).fill(0xffff);
    this.highlighted.clear();
    this.selected.clear();
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < xs.length; i++) {
      minX = Math.min(minX, xs[i]!);
      maxX = Math.max(maxX, xs[i]!);
      minY = Math.min(minY, ys[i]!);
      maxY = Math.max(maxY, ys[i]!);
    }
    if (xs.length === 0) [minX, minY, maxX, maxY] = [0, 0, 1, 1];
    if (maxX - minX < 1e-9) [minX, maxX] = [minX - 0.5, maxX + 0.5];
    if (maxY - minY < 1e-9) [minY, maxY] = [minY - 0.5, maxY + 0.5];
    this.bounds = { minX, minY, maxX, maxY };
    this.buildGrid();
    this.fit();
  }

  /** Colours: a palette and each point's index into it (0xffff for none). */
  setColors(colors: Uint16Array, palette: string[], muted: string): void {
    this.colors = colors;
    this.palette = palette;
    this.muted = muted;
    this.redraw();
  }

  setHighlighted(indices: Iterable<number>): void {
    this.highlighted = new Set(indices);
    this.redraw();
  }

  get selection(): number[] {
    return [...this.selected];
  }

  clearSelection(): void {
    this.selected.clear();
    this.redraw();
  }

  /** Selects the points that pass `inside` (canvas px) and tells the page. */
  private selectWhere(inside: (x: number, y: number) => boolean): void {
    this.selected.clear();
    for (let i = 0; i < this.xs.length; i++) {
      const s = this.toScreen(i);
      if (inside(s.x, s.y)) this.selected.add(i);
    }
    this.redraw();
    this.events.select(this.selection);
  }

  /** Every point now in view: the keyboard's selection (and the "Select in view" button's). */
  selectInView(): void {
    const w = this.canvas.clientWidth;
    const hgt = this.canvas.clientHeight;
    this.selectWhere((x, y) => x >= 0 && y >= 0 && x <= w && y <= hgt);
  }

  fit(): void {
    const { minX, minY, maxX, maxY } = this.bounds;
    const w = this.canvas.clientWidth || 1;
    const hgt = this.canvas.clientHeight || 1;
    this.view = { cx: (minX + maxX) / 2, cy: (minY + maxY) / 2, scale: 0.92 * Math.min(w / (maxX - minX), hgt / (maxY - minY)) };
    this.redraw();
  }

  /** Screen (CSS px, relative to the canvas) of a point. */
  toScreen(i: number): { x: number; y: number } {
    const w = this.canvas.clientWidth;
    const hgt = this.canvas.clientHeight;
    return { x: (this.xs[i]! - this.view.cx) * this.view.scale + w / 2, y: hgt / 2 - (this.ys[i]! - this.view.cy) * this.view.scale };
  }

  redraw(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const hgt = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== w || this.canvas.height !== hgt) {
      const fresh = this.canvas.width <= 1;
      this.canvas.width = w;
      this.canvas.height = hgt;
      if (fresh) this.fit();
      else this.redraw();
    }
  }

  private draw(): void {
    const { ctx, canvas } = this;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const w = canvas.clientWidth;
    const hgt = canvas.clientHeight;
    ctx.clearRect(0, 0, w, hgt);
    const n = this.xs.length;
    // Smaller points when there are many, so dense regions stay readable.
    const size = n > 10_000 ? 2.5 : n > 2_000 ? 3.5 : 5;
    const half = size / 2;
    const { cx, cy, scale } = this.view;
    const byColor = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const c = this.colors[i] ?? 0xffff;
      let list = byColor.get(c);
      if (!list) byColor.set(c, (list = []));
      list.push(i);
    }
    // Uncoloured points first, underneath.
    const order = [...byColor.keys()].sort((a, b) => (a === 0xffff ? -1 : b === 0xffff ? 1 : a - b));
    let drawn = 0;
    const dim = this.highlighted.size > 0;
    for (const c of order) {
      ctx.fillStyle = c === 0xffff ? this.muted : (this.palette[c] ?? this.muted);
      ctx.globalAlpha = dim ? 0.4 : 0.85;
      for (const i of byColor.get(c)!) {
        const x = (this.xs[i]! - cx) * scale + w / 2;
        const y = hgt / 2 - (this.ys[i]! - cy) * scale;
        if (x < -size || y < -size || x > w + size || y > hgt + size) continue;
        ctx.fillRect(x - half, y - half, size, size);
        drawn++;
      }
    }
    ctx.globalAlpha = 1;
    const ring = (i: number, r: number, color: string) => {
      const p = this.toScreen(i);
      ctx.beginPath();
      ctx.arc(p.x, p.y, r, 0, Math.PI * 2);
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.stroke();
    };
    const accent = getComputedStyle(canvas).getPropertyValue('--accent').trim() || '#e4572e';
    const ink = getComputedStyle(canvas).getPropertyValue('--ink').trim() || '#111';
    for (const i of this.highlighted) {
      const p = this.toScreen(i);
      ctx.fillStyle = this.colors[i] === 0xffff || this.colors[i] === undefined ? accent : this.palette[this.colors[i]] ?? accent;
      ctx.fillRect(p.x - 3, p.y - 3, 6, 6);
      ring(i, 6, accent);
    }
    for (const i of this.selected) ring(i, 4, ink);
    if (this.cursor !== null && this.cursor < n) ring(this.cursor, 9, ink);
    if (this.lasso && this.lasso.length > 1) {
      ctx.strokeStyle = ink;
      ctx.setLineDash([4, 3]);
      ctx.lineWidth = 1;
      ctx.beginPath();
      this.lasso.forEach((p, k) => (k === 0 ? ctx.moveTo(p.x, p.y) : ctx.lineTo(p.x, p.y)));
      ctx.closePath();
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (this.box) {
      ctx.strokeStyle = ink;
      ctx.setLineDash([4, 3]);
      ctx.lineWidth = 1;
      const { x0, y0, x1, y1 } = this.box;
      ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      ctx.setLineDash([]);
    }
    this.drawn = drawn;
    canvas.dataset.drawn = String(drawn);
  }

  private buildGrid(): void {
    const { minX, minY, maxX, maxY } = this.bounds;
    this.grid = Array.from({ length: GRID * GRID }, () => []);
    for (let i = 0; i < this.xs.length; i++) {
      const gx = Math.min(GRID - 1, Math.floor(((this.xs[i]! - minX) / (maxX - minX)) * GRID));
      const gy = Math.min(GRID - 1, Math.floor(((this.ys[i]! - minY) / (maxY - minY)) * GRID));
      this.grid[gy * GRID + gx]!.push(i);
    }
  }

  /** The point nearest to a canvas position (CSS px), within HIT_PX. */
  pointAt(px: number, py: number): number | null {
    const w = this.canvas.clientWidth;
    const hgt = this.canvas.clientHeight;
    const { cx, cy, scale } = this.view;
    const dx = (px - w / 2) / scale + cx;
    const dy = (hgt / 2 - py) / scale + cy;
    const r = HIT_PX / scale;
    const { minX, minY, maxX, maxY } = this.bounds;
    const cellW = (maxX - minX) / GRID;
    const cellH = (maxY - minY) / GRID;
    const gx0 = Math.max(0, Math.floor((dx - r - minX) / cellW));
    const gx1 = Math.min(GRID - 1, Math.floor((dx + r - minX) / cellW));
    const gy0 = Math.max(0, Math.floor((dy - r - minY) / cellH));
    const gy1 = Math.min(GRID - 1, Math.floor((dy + r - minY) / cellH));
    let best: number | null = null;
    let bestD = r * r;
    for (let gy = gy0; gy <= gy1; gy++) {
      for (let gx = gx0; gx <= gx1; gx++) {
        for (const i of this.grid[gy * GRID + gx] ?? []) {
          const d = (this.xs[i]! - dx) ** 2 + (this.ys[i]! - dy) ** 2;
          if (d <= bestD) {
            bestD = d;
            best = i;
          }
        }
      }
    }
    return best;
  }

  private local(e: PointerEvent | WheelEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private onDown(e: PointerEvent): void {
    const p = this.local(e);
    this.canvas.setPointerCapture(e.pointerId);
    const tool = e.shiftKey ? 'box' : this.tool;
    this.drag = { x: p.x, y: p.y, cx: this.view.cx, cy: this.view.cy, tool, moved: false };
    if (tool === 'lasso') this.lasso = [p];
  }

  private onMove(e: PointerEvent): void {
    const p = this.local(e);
    const d = this.drag;
    if (d) {
      if (Math.abs(p.x - d.x) + Math.abs(p.y - d.y) > 3) d.moved = true;
      if (d.tool === 'box') {
        this.box = { x0: d.x, y0: d.y, x1: p.x, y1: p.y };
      } else if (d.tool === 'lasso') {
        this.lasso?.push(p);
      } else if (d.moved) {
        this.view.cx = d.cx - (p.x - d.x) / this.view.scale;
        this.view.cy = d.cy + (p.y - d.y) / this.view.scale;
      }
      this.redraw();
      return;
    }
    this.events.hover(this.pointAt(p.x, p.y), e.clientX, e.clientY);
  }

  private onUp(e: PointerEvent): void {
    const d = this.drag;
    this.drag = undefined;
    if (!d) return;
    const p = this.local(e);
    if (d.tool === 'box' && this.box) {
      const { x0, y0, x1, y1 } = this.box;
      this.box = undefined;
      const [lx, hx, ly, hy] = [Math.min(x0, x1), Math.max(x0, x1), Math.min(y0, y1), Math.max(y0, y1)];
      this.selectWhere((x, y) => x >= lx && x <= hx && y >= ly && y <= hy);
      return;
    }
    if (d.tool === 'lasso' && this.lasso) {
      const outline = this.lasso;
      this.lasso = undefined;
      if (outline.length > 2 && d.moved) {
        this.selectWhere((x, y) => insidePolygon(outline, x, y));
        return;
      }
      this.redraw();
    }
    if (!d.moved) {
      const i = this.pointAt(p.x, p.y);
      if (i !== null) this.events.click(i);
    }
  }

  private zoom(factor: number, at?: { x: number; y: number }): void {
    const w = this.canvas.clientWidth;
    const hgt = this.canvas.clientHeight;
    const p = at ?? { x: w / 2, y: hgt / 2 };
    const { cx, cy, scale } = this.view;
    const dx = (p.x - w / 2) / scale + cx;
    const dy = (hgt / 2 - p.y) / scale + cy;
    const s = scale * factor;
    this.view = { scale: s, cx: dx - (p.x - w / 2) / s, cy: dy - (hgt / 2 - p.y) / s };
    this.redraw();
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    this.zoom(Math.exp(-e.deltaY * 0.0015), this.local(e));
  }

  /** Makes the point nearest the view's centre the cursor and shows its tooltip. */
  private pickCursor(): void {
    const w = this.canvas.clientWidth;
    const hgt = this.canvas.clientHeight;
    let best: number | null = null;
    let bestD = Infinity;
    for (let i = 0; i < this.xs.length; i++) {
      const p = this.toScreen(i);
      const d = (p.x - w / 2) ** 2 + (p.y - hgt / 2) ** 2;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    this.cursor = best;
    if (best === null) return;
    const r = this.canvas.getBoundingClientRect();
    const p = this.toScreen(best);
    this.events.hover(best, r.left + p.x, r.top + p.y);
    this.redraw();
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === 'Enter' && this.cursor !== null) {
      e.preventDefault();
      this.events.click(this.cursor);
      return;
    }
    if (e.key === 's' || e.key === 'S') {
      e.preventDefault();
      this.selectInView();
      return;
    }
    const step = 40 / this.view.scale;
    const moves: Record<string, () => void> = {
      ArrowLeft: () => (this.view.cx -= step),
      ArrowRight: () => (this.view.cx += step),
      ArrowUp: () => (this.view.cy += step),
      ArrowDown: () => (this.view.cy -= step),
      '+': () => this.zoom(1.25),
      '=': () => this.zoom(1.25),
      '-': () => this.zoom(0.8),
      '0': () => this.fit(),
    };
    const move = moves[e.key];
    if (!move) return;
    e.preventDefault();
    move();
    this.pickCursor();
    this.redraw();
  }
}

/** Whether (x, y) is inside the closed outline (even-odd rule: a ray crosses it an odd number of times). */
function insidePolygon(outline: { x: number; y: number }[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = outline.length - 1; i < outline.length; j = i++) {
    const a = outline[i]!;
    const b = outline[j]!;
    if (a.y > y !== b.y > y && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}
