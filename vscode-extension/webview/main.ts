// The graph webview: lays out the `fledge/graph` result with dagre and draws it as SVG.
// Nodes are clickable (the extension opens the code), the view pans (drag) and zooms (wheel).
import { Graph, layout } from '@dagrejs/dagre';
import type { FromWebview, GraphEdge, GraphNode, GraphResult, ToWebview } from '../src/protocol';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): SavedState | undefined;
  setState(state: SavedState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  direction: 'TB' | 'LR';
  uri?: string;
  workflow?: string;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const vscode = acquireVsCodeApi();
const saved: SavedState = { direction: 'TB', ...(vscode.getState() ?? {}) };

const $ = <T extends Element>(id: string) => document.getElementById(id) as unknown as T;
const svg = $<SVGSVGElement>('graph');
const canvas = $<HTMLDivElement>('canvas');
const titleEl = $<HTMLSpanElement>('title');
const fileEl = $<HTMLSpanElement>('file');
const messageEl = $<HTMLDivElement>('message');
const dirButton = $<HTMLButtonElement>('direction');

let current: GraphResult | undefined;
let fileLabel = '';
let content = { width: 0, height: 0 };
let view = { x: 0, y: 0, w: 1, h: 1 };
let userMoved = false;

// ---------------------------------------------------------------- text measurement
const measureCtx = document.createElement('canvas').getContext('2d');
function textWidth(text: string, px: number, weight = 'normal'): number {
  if (!measureCtx) return text.length * px * 0.6;
  const family = getComputedStyle(document.body).fontFamily || 'sans-serif';
  measureCtx.font = `${weight} ${px}px ${family}`;
  return measureCtx.measureText(text).width;
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// ---------------------------------------------------------------- svg helpers
function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

function title(parent: Element, text: string) {
  el('title', {}, parent).textContent = text;
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

/** A B-spline through dagre's edge points (as d3's curveBasis). */
function basisPath(pts: { x: number; y: number }[]): string {
  if (pts.length === 0) return '';
  if (pts.length < 3) return `M${fmt(pts[0].x)},${fmt(pts[0].y)}` + pts.slice(1).map(p => ` L${fmt(p.x)},${fmt(p.y)}`).join('');
  let x0 = pts[0].x;
  let y0 = pts[0].y;
  let x1 = pts[1].x;
  let y1 = pts[1].y;
  let d = `M${fmt(x0)},${fmt(y0)} L${fmt((5 * x0 + x1) / 6)},${fmt((5 * y0 + y1) / 6)}`;
  const step = (x: number, y: number) => {
    d += ` C${fmt((2 * x0 + x1) / 3)},${fmt((2 * y0 + y1) / 3)} ${fmt((x0 + 2 * x1) / 3)},${fmt((y0 + 2 * y1) / 3)} ${fmt((x0 + 4 * x1 + x) / 6)},${fmt((y0 + 4 * y1 + y) / 6)}`;
    x0 = x1;
    y0 = y1;
    x1 = x;
    y1 = y;
  };
  for (let i = 2; i < pts.length; i++) step(pts[i].x, pts[i].y);
  step(x1, y1);
  return `${d} L${fmt(x1)},${fmt(y1)}`;
}

// ---------------------------------------------------------------- node and edge text
/** Node kinds as the server may spell them (`map_task`, `maptask`, `MapTask`, ...): style class and caption. */
const KINDS: Record<string, { cls: string; caption: string }> = {
  start: { cls: 'start', caption: 'start' },
  end: { cls: 'end', caption: 'end' },
  task: { cls: 'task', caption: 'task' },
  pythontask: { cls: 'task', caption: 'task' },
  containertask: { cls: 'task', caption: 'container task' },
  shelltask: { cls: 'task', caption: 'shell task' },
  dynamic: { cls: 'dynamic', caption: 'dynamic task' },
  dynamictask: { cls: 'dynamic', caption: 'dynamic task' },
  eager: { cls: 'dynamic', caption: 'eager task' },
  eagertask: { cls: 'dynamic', caption: 'eager task' },
  referencetask: { cls: 'task', caption: 'reference task' },
  workflow: { cls: 'workflow', caption: 'sub-workflow' },
  subworkflow: { cls: 'workflow', caption: 'sub-workflow' },
  referenceworkflow: { cls: 'workflow', caption: 'reference workflow' },
  launchplan: { cls: 'launch_plan', caption: 'launch plan' },
  referencelaunchplan: { cls: 'launch_plan', caption: 'reference launch plan' },
  maptask: { cls: 'map_task', caption: 'map task' },
  arraynode: { cls: 'map_task', caption: 'array node' },
  branch: { cls: 'branch', caption: 'conditional' },
  conditional: { cls: 'branch', caption: 'conditional' },
  gate: { cls: 'gate', caption: 'gate' },
  approve: { cls: 'gate', caption: 'approve' },
  sleep: { cls: 'gate', caption: 'sleep' },
  waitforinput: { cls: 'gate', caption: 'wait for input' },
};

function kindOf(n: GraphNode): { cls: string; caption: string } {
  const key = String(n.kind ?? '').toLowerCase().replace(/[^a-z]/g, '');
  return KINDS[key] ?? { cls: 'other', caption: String(n.kind ?? 'node') };
}

function isTerminal(n: GraphNode) {
  const c = kindOf(n).cls;
  return c === 'start' || c === 'end';
}

function edgeLines(e: GraphEdge): { lines: string[]; full: string } {
  const lines: string[] = [];
  if (e.label) lines.push(e.label);
  if (e.pythonType) lines.push(e.pythonType);
  if (e.flyteType && e.flyteType !== e.pythonType) lines.push(e.flyteType);
  const full = [e.label ? `${e.label}` : '', e.pythonType ? `Python: ${e.pythonType}` : '', e.flyteType ? `Flyte: ${e.flyteType}` : '']
    .filter(Boolean)
    .join('\n');
  return { lines: lines.map(l => truncate(l, 30)), full };
}

// ---------------------------------------------------------------- rendering
const LABEL_PX = 13;
const SMALL_PX = 11;

function render(g: GraphResult, refit: boolean) {
  current = g;
  const rankdir = saved.direction;
  const dg = new Graph({ multigraph: true });
  dg.setGraph({ rankdir, nodesep: 22, ranksep: rankdir === 'TB' ? 40 : 56, edgesep: 10, marginx: 16, marginy: 16 });
  dg.setDefaultEdgeLabel(() => ({}));
  const ids = new Set<string>();
  for (const n of g.nodes) {
    if (ids.has(n.id)) continue;
    ids.add(n.id);
    const label = truncate(n.label, 44);
    const { caption, cls } = kindOf(n);
    let width: number;
    let height: number;
    if (isTerminal(n)) {
      width = Math.max(72, textWidth(label, LABEL_PX, '600') + 32);
      height = 30;
    } else {
      width = Math.max(110, textWidth(label, LABEL_PX, '600') + 28, textWidth(caption, SMALL_PX) + 28);
      if (cls === 'branch') width += 24;
      height = 44;
    }
    dg.setNode(n.id, { width: Math.ceil(width), height, label, caption });
  }
  const edges = g.edges.filter(e => ids.has(e.from) && ids.has(e.to));
  edges.forEach((e, i) => {
    const { lines } = edgeLines(e);
    const width = lines.length ? Math.ceil(Math.max(...lines.map((l, k) => textWidth(l, SMALL_PX, k === 0 && e.label ? '600' : 'normal'))) + 10) : 0;
    const height = lines.length ? lines.length * 14 + 6 : 0;
    dg.setEdge(e.from, e.to, { width, height, labelpos: 'c', minlen: 1 }, `e${i}`);
  });
  layout(dg);
  const gl = dg.graph();
  content = { width: gl.width ?? 100, height: gl.height ?? 100 };

  svg.replaceChildren();
  const defs = el('defs', {}, svg);
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
  el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }, marker);
  const root = el('g', { class: 'viewport' }, svg);
  const edgeLayer = el('g', { class: 'edges' }, root);
  const nodeLayer = el('g', { class: 'nodes' }, root);
  const labelLayer = el('g', { class: 'edge-labels' }, root);

  edges.forEach((e, i) => {
    const de = dg.edge(e.from, e.to, `e${i}`);
    if (!de?.points) return;
    const { lines, full } = edgeLines(e);
    const typed = !!(e.pythonType || e.flyteType);
    const path = el('path', { d: basisPath(de.points), class: `edge${typed ? '' : ' control'}`, 'marker-end': 'url(#arrow)', 'data-from': e.from, 'data-to': e.to }, edgeLayer);
    if (full) title(path, full);
    if (lines.length && de.x !== undefined && de.y !== undefined) {
      const w = de.width ?? 0;
      const h = de.height ?? 0;
      const lg = el('g', { class: 'edge-label', transform: `translate(${fmt(de.x - w / 2)},${fmt(de.y - h / 2)})`, 'data-from': e.from, 'data-to': e.to }, labelLayer);
      el('rect', { width: w, height: h, rx: 3 }, lg);
      lines.forEach((line, k) => {
        const t = el('text', { x: w / 2, y: 3 + 14 * k + 11, class: k === 0 && e.label ? 'edge-name' : 'edge-type' }, lg);
        t.textContent = line;
      });
      title(lg, full);
    }
  });

  for (const n of g.nodes) {
    const dn = dg.node(n.id);
    if (!dn || dn.x === undefined || dn.y === undefined || nodeLayer.querySelector(`[data-id="${CSS.escape(n.id)}"]`)) continue;
    const w = dn.width;
    const h = dn.height;
    const kind = kindOf(n);
    const kindClass = `kind-${kind.cls}`;
    const ng = el('g', {
      class: `node ${kindClass}${n.range || n.targetUri ? ' clickable' : ''}`,
      transform: `translate(${fmt(dn.x - w / 2)},${fmt(dn.y - h / 2)})`,
      'data-id': n.id,
      'data-kind': n.kind,
      'data-label': n.label,
      tabindex: 0,
      role: 'button',
    }, nodeLayer);
    if (n.range) ng.setAttribute('data-line', String(n.range.start.line + 1));
    if (n.targetUri) ng.setAttribute('data-target', n.targetUri);
    if (n.targetRange) ng.setAttribute('data-target-line', String(n.targetRange.start.line + 1));
    ng.setAttribute('aria-label', `${kind.caption} ${n.label}`);
    const tip = [`${n.label} (${kind.caption})`];
    if (n.range) tip.push(`called at line ${n.range.start.line + 1}`);
    if (n.targetUri) tip.push(`defined in ${decodeURIComponent(n.targetUri.replace(/^file:\/\//, ''))}${n.targetRange ? `:${n.targetRange.start.line + 1}` : ''}`);
    if (n.range || n.targetUri) tip.push('click: go to the call · Ctrl/Cmd+click: go to the definition');
    title(ng, tip.join('\n'));
    if (kind.cls === 'map_task') {
      el('rect', { x: 6, y: -6, width: w, height: h, rx: 6, class: 'shape stack' }, ng);
      el('rect', { x: 3, y: -3, width: w, height: h, rx: 6, class: 'shape stack' }, ng);
    }
    if (kind.cls === 'branch') {
      const k = 12;
      el('polygon', { points: `${k},0 ${w - k},0 ${w},${h / 2} ${w - k},${h} ${k},${h} 0,${h / 2}`, class: 'shape' }, ng);
    } else {
      el('rect', { width: w, height: h, rx: isTerminal(n) ? h / 2 : 6, class: 'shape' }, ng);
    }
    if (kind.cls === 'workflow') el('rect', { x: 3, y: 3, width: w - 6, height: h - 6, rx: 4, class: 'inner' }, ng);
    if (isTerminal(n)) {
      const t = el('text', { x: w / 2, y: h / 2 + 4.5, class: 'label' }, ng);
      t.textContent = String(dn.label);
    } else {
      const c = el('text', { x: w / 2, y: 15, class: 'caption' }, ng);
      c.textContent = String(dn.caption);
      const t = el('text', { x: w / 2, y: 33, class: 'label' }, ng);
      t.textContent = String(dn.label);
    }
    wireNode(ng, n);
  }
  svg.dataset.nodes = String(nodeLayer.childElementCount);
  svg.dataset.edges = String(edges.length);
  svg.dataset.workflow = g.workflow;
  if (refit || !userMoved) initialView();
  else applyView();
  vscode.postMessage({ type: 'rendered', nodes: nodeLayer.childElementCount, edges: edges.length });
}

function wireNode(ng: SVGGElement, n: GraphNode) {
  const open = (definition: boolean) => vscode.postMessage({ type: 'open', nodeId: n.id, definition });
  ng.addEventListener('click', ev => {
    if (dragged) return;
    open(ev.ctrlKey || ev.metaKey);
  });
  ng.addEventListener('keydown', ev => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      open(ev.ctrlKey || ev.metaKey);
    }
  });
  const hl = (on: boolean) => {
    for (const e of svg.querySelectorAll(`[data-from="${CSS.escape(n.id)}"], [data-to="${CSS.escape(n.id)}"]`)) e.classList.toggle('hl', on);
  };
  ng.addEventListener('mouseenter', () => hl(true));
  ng.addEventListener('mouseleave', () => hl(false));
  ng.addEventListener('focus', () => hl(true));
  ng.addEventListener('blur', () => hl(false));
}

// ---------------------------------------------------------------- pan and zoom (viewBox)
function applyView() {
  svg.setAttribute('viewBox', `${fmt(view.x)} ${fmt(view.y)} ${fmt(view.w)} ${fmt(view.h)}`);
}

/** Fits the whole graph into the view (never enlarged beyond 140 %). */
function fit() {
  const cw = Math.max(canvas.clientWidth, 50);
  const ch = Math.max(canvas.clientHeight, 50);
  setScale(Math.min(cw / content.width, ch / content.height, 1.4), 'center');
}

/** The first view of a graph: all of it unless that would make the text unreadable (below 45 %);
 *  then its full width (at 45 % at least) from the top, to scroll through. */
function initialView() {
  const cw = Math.max(canvas.clientWidth, 50);
  const ch = Math.max(canvas.clientHeight, 50);
  const all = Math.min(cw / content.width, ch / content.height, 1.4);
  if (all >= 0.45) return fit();
  setScale(Math.max(Math.min(cw / content.width, 1), 0.45), 'top');
}

function setScale(s: number, align: 'center' | 'top') {
  const cw = Math.max(canvas.clientWidth, 50);
  const ch = Math.max(canvas.clientHeight, 50);
  const w = cw / s;
  const h = ch / s;
  const y = align === 'top' && h < content.height ? 0 : (content.height - h) / 2;
  view = { x: (content.width - w) / 2, y, w, h };
  userMoved = false;
  applyView();
}

function toSvg(clientX: number, clientY: number) {
  const ctm = svg.getScreenCTM();
  if (!ctm) return { x: clientX, y: clientY };
  const p = new DOMPoint(clientX, clientY).matrixTransform(ctm.inverse());
  return { x: p.x, y: p.y };
}

// wheel: scroll (Shift: sideways); Ctrl/Cmd+wheel or pinch: zoom at the pointer
svg.addEventListener(
  'wheel',
  ev => {
    if (!current) return;
    ev.preventDefault();
    const unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? canvas.clientHeight : 1;
    if (!(ev.ctrlKey || ev.metaKey)) {
      const ctm = svg.getScreenCTM();
      const k = ctm ? ctm.a : 1;
      const dx = (ev.shiftKey && !ev.deltaX ? ev.deltaY : ev.deltaX) * unit;
      const dy = ev.shiftKey && !ev.deltaX ? 0 : ev.deltaY * unit;
      view = { ...view, x: view.x + dx / k, y: view.y + dy / k };
      userMoved = true;
      applyView();
      return;
    }
    const f = Math.exp(Math.max(-0.5, Math.min(0.5, ev.deltaY * unit * 0.002)));
    const nw = view.w * f;
    const maxW = Math.max(content.width, content.height) * 8;
    if ((f < 1 && nw < 40) || (f > 1 && nw > maxW)) return;
    const p = toSvg(ev.clientX, ev.clientY);
    view = { x: p.x - (p.x - view.x) * f, y: p.y - (p.y - view.y) * f, w: nw, h: view.h * f };
    userMoved = true;
    applyView();
  },
  { passive: false },
);

let drag: { x: number; y: number; view: typeof view; scale: number; id: number } | undefined;
let dragged = false;
svg.addEventListener('pointerdown', ev => {
  if (ev.button !== 0 || !current) return;
  const ctm = svg.getScreenCTM();
  drag = { x: ev.clientX, y: ev.clientY, view: { ...view }, scale: ctm ? ctm.a : 1, id: ev.pointerId };
  dragged = false;
});
svg.addEventListener('pointermove', ev => {
  if (!drag || ev.pointerId !== drag.id) return;
  const dx = ev.clientX - drag.x;
  const dy = ev.clientY - drag.y;
  if (!dragged && Math.hypot(dx, dy) < 4) return;
  if (!dragged) {
    dragged = true;
    svg.setPointerCapture(ev.pointerId);
    svg.classList.add('panning');
  }
  view = { ...drag.view, x: drag.view.x - dx / drag.scale, y: drag.view.y - dy / drag.scale };
  userMoved = true;
  applyView();
});
const endDrag = (ev: PointerEvent) => {
  if (!drag || ev.pointerId !== drag.id) return;
  drag = undefined;
  svg.classList.remove('panning');
  if (svg.hasPointerCapture(ev.pointerId)) svg.releasePointerCapture(ev.pointerId);
  // `dragged` stays set until after the click event that follows pointerup
  setTimeout(() => (dragged = false), 0);
};
svg.addEventListener('pointerup', endDrag);
svg.addEventListener('pointercancel', endDrag);

new ResizeObserver(() => {
  if (!current) return;
  if (!userMoved) initialView();
}).observe(canvas);

// ---------------------------------------------------------------- toolbar, messages
function updateDirButton() {
  dirButton.textContent = saved.direction === 'TB' ? 'Left → right' : 'Top → down';
}
updateDirButton();

function zoomBy(f: number) {
  if (!current) return;
  const cx = view.x + view.w / 2;
  const cy = view.y + view.h / 2;
  view = { x: cx - (view.w * f) / 2, y: cy - (view.h * f) / 2, w: view.w * f, h: view.h * f };
  userMoved = true;
  applyView();
}
$<HTMLButtonElement>('zoom-in').addEventListener('click', () => zoomBy(1 / 1.25));
$<HTMLButtonElement>('zoom-out').addEventListener('click', () => zoomBy(1.25));
$<HTMLButtonElement>('fit').addEventListener('click', () => current && fit());
dirButton.addEventListener('click', () => {
  saved.direction = saved.direction === 'TB' ? 'LR' : 'TB';
  vscode.setState(saved);
  updateDirButton();
  if (current) render(current, true);
});
$<HTMLButtonElement>('refresh').addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));

function showMessage(text: string, level: 'info' | 'error') {
  messageEl.textContent = text;
  messageEl.className = `message ${level}`;
}
function hideMessage() {
  messageEl.className = 'message hidden';
  messageEl.textContent = '';
}

window.addEventListener('message', (ev: MessageEvent<ToWebview>) => {
  const m = ev.data;
  switch (m.type) {
    case 'graph': {
      hideMessage();
      fileLabel = m.fileLabel;
      const short = m.graph.workflow.split('.').pop() ?? m.graph.workflow;
      titleEl.textContent = short;
      titleEl.title = m.graph.workflow;
      fileEl.textContent = fileLabel;
      document.body.classList.remove('empty');
      saved.uri = m.graph.uri;
      saved.workflow = m.graph.workflow;
      vscode.setState(saved);
      render(m.graph, m.refit);
      break;
    }
    case 'message':
      showMessage(m.text, m.level);
      if (!m.keepGraph || !current) {
        current = undefined;
        svg.replaceChildren();
        svg.dataset.nodes = '0';
        document.body.classList.add('empty');
      }
      break;
    case 'busy':
      document.body.classList.toggle('busy', m.busy);
      break;
  }
});

document.body.classList.add('empty');
vscode.postMessage({ type: 'ready' });
