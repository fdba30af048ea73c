// The faultline run viewer: a space-time diagram of one trace, drawn on a canvas.
// Everything the page needs is in this file, the stylesheet and the embedded JSON; nothing is
// fetched. Drawing covers only the visible window, so traces of 100,000 events stay smooth.
(function () {
  'use strict';

  const COLOR = {
    arrow: '#3b6fd8', dup: '#8e44ad', drop: '#d9480f', timer: '#868e96', crash: '#c92a2a',
    start: '#2b8a3e', pause: '#f08c00', skew: '#1098ad', note: '#495057', hold: '#f08c00',
    ok: '#2f9e44', fail: '#e03131', info: '#f59f00', open: '#adb5bd', violation: '#e03131',
    chain: '#f76707', lane: '#adb5bd', select: '#212529', client: '#5c7cfa',
  };
  const REASON_LETTER = { loss: 'L', partition: 'P', node_down: 'D', capacity: 'C' };
  const GUTTER_PX = 84;
  const AXIS_PX = 26;
  const CLIENT_ROW_PX = 12;
  const HIT_PX = 8;
  // Above these counts in view, arrowheads and labels are left out to keep frames fast.
  const HEADS_MAX = 4000;
  const LABELS_MAX = 400;

  const loadStart = performance.now();
  const data = JSON.parse(document.getElementById('faultline-data').textContent);
  const meta = data.meta || {};

  // ---- the model ------------------------------------------------------------------------
  const events = [];
  const violations = [];
  const explanations = [];
  for (const r of data.records) {
    if (r.kind === 'violation') violations.push(r);
    else if (r.kind === 'explanation') explanations.push(r);
    else if (typeof r.i === 'number') events.push(r);
  }
  events.sort((a, b) => a.i - b.i);
  const n = events.length;
  const posOf = new Map();
  const T = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    posOf.set(events[k].i, k);
    T[k] = events[k].t_ns;
  }
  for (let k = 1; k < n; k++) if (T[k] < T[k - 1]) T[k] = T[k - 1];

  const nodes = (meta.nodes || []).slice();
  const laneOf = new Map(nodes.map((name, idx) => [name, idx]));
  const lane = (name) => {
    if (!laneOf.has(name)) { laneOf.set(name, nodes.length); nodes.push(name); }
    return laneOf.get(name);
  };
  const L = new Int32Array(n);
  for (let k = 0; k < n; k++) L[k] = lane(events[k].node);

  const msgType = (detail) => {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(detail || '');
    return m ? m[0] : '(none)';
  };
  const origins = new Map(); // msg_id -> {pos, type, dup}
  const arrows = [];         // deliveries: {src, dst, from, to, type, dup}
  const drops = [];          // {src, dst, from, to, type, reason}
  const typeOfPos = new Int32Array(n).fill(-1);
  const types = [];
  const typeIndex = new Map();
  const typeId = (t) => {
    if (!typeIndex.has(t)) { typeIndex.set(t, types.length); types.push(t); }
    return typeIndex.get(t);
  };
  const clientOps = new Map(); // "client:seq" -> {client, seq, inv, done, status}
  const downs = [];   // per lane: [[from, to], ...] positions
  const pauses = [];
  const partitions = []; // {from, to, detail}
  const states = [];  // per lane: positions with state_after
  const sendOf = new Map(); // deliver pos -> send pos
  let clients = 0;
  for (let l = 0; l < nodes.length; l++) { downs.push([]); pauses.push([]); states.push([]); }
  const openDown = new Map();
  const openPause = new Map();
  let openPartitions = [];
  for (let k = 0; k < n; k++) {
    const e = events[k];
    const l = L[k];
    if (!downs[l]) { downs[l] = []; pauses[l] = []; states[l] = []; }
    if (e.state_after !== undefined) states[l].push(k);
    switch (e.kind) {
      case 'send': {
        const t = typeId(msgType(e.detail));
        origins.set(e.msg_id, { pos: k, type: t, dup: false });
        typeOfPos[k] = t;
        break;
      }
      case 'duplicate': {
        const o = origins.get(e.msg_id);
        const t = o ? o.type : typeId('(none)');
        origins.set(e.copy_id, { pos: k, type: t, dup: true });
        typeOfPos[k] = t;
        break;
      }
      case 'deliver': case 'drop': case 'hold': {
        const o = origins.get(e.msg_id);
        const src = o ? o.pos : k;
        const t = o ? o.type : typeId('(none)');
        typeOfPos[k] = t;
        const from = lane(e.from !== undefined ? e.from : e.node);
        const to = e.kind === 'drop' ? lane(e.to !== undefined ? e.to : e.node) : l;
        if (e.kind === 'deliver') {
          arrows.push({ src, dst: k, from, to, type: t, dup: !!(o && o.dup) });
          sendOf.set(k, src);
        } else if (e.kind === 'drop') {
          drops.push({ src, dst: k, from, to, type: t, reason: e.reason, atSend: l === from });
        }
        break;
      }
      case 'crash': openDown.set(l, k); break;
      case 'restart':
        if (openDown.has(l)) { downs[l].push([openDown.get(l), k]); openDown.delete(l); }
        break;
      case 'pause': openPause.set(l, k); break;
      case 'resume':
        if (openPause.has(l)) { pauses[l].push([openPause.get(l), k]); openPause.delete(l); }
        break;
      case 'partition': {
        const p = { from: k, to: n - 1, detail: e.detail || 'partition' };
        partitions.push(p);
        openPartitions.push(p);
        break;
      }
      case 'heal':
        for (const p of openPartitions) p.to = k;
        openPartitions = [];
        break;
      case 'invoke': case 'complete': {
        const key = e.client + ':' + e.seq;
        clients = Math.max(clients, e.client + 1);
        let op = clientOps.get(key);
        if (!op) { op = { client: e.client, seq: e.seq, inv: k, done: -1, status: 'open' }; clientOps.set(key, op); }
        if (e.kind === 'complete') { op.done = k; op.status = e.status || 'info'; }
        break;
      }
      default: break;
    }
  }
  for (const [l, k] of openDown) downs[l].push([k, n]);
  for (const [l, k] of openPause) pauses[l].push([k, n]);
  const ops = Array.from(clientOps.values()).sort((a, b) => a.inv - b.inv);
  drops.sort((a, b) => a.dst - b.dst);
  let arrowSpan = 0;
  for (const a of arrows) arrowSpan = Math.max(arrowSpan, a.dst - a.src);
  let dropSpan = 0;
  for (const d of drops) dropSpan = Math.max(dropSpan, d.dst - d.src);
  let opSpan = 0;
  for (const o of ops) opSpan = Math.max(opSpan, (o.done < 0 ? n : o.done) - o.inv);
  const arrowDst = arrows.map((a) => a.dst);
  const dropDst = drops.map((d) => d.dst);
  const opInv = ops.map((o) => o.inv);

  // Violations: the trace's own lines, or else the report's (time only).
  const marks = [];
  for (const v of violations) {
    const pos = typeof v.event === 'number' && posOf.has(v.event) ? posOf.get(v.event) : -1;
    marks.push({ pos, t: pos >= 0 ? T[pos] : (v.t_ns || 0), v });
  }
  if (marks.length === 0) {
    for (const v of meta.violations || []) marks.push({ pos: -1, t: v.t_ns, v });
  }
  for (const m of marks) if (m.pos < 0) m.pos = lowerBound(T, m.t);
  const chain = new Set();
  for (const x of explanations) for (const i of x.chain || []) if (posOf.has(i)) chain.add(posOf.get(i));

  // ---- view state -----------------------------------------------------------------------
  const hiddenNodes = new Set();
  const hiddenTypes = new Set();
  let axis = 'time';
  let x0 = 0;
  let x1 = 1;
  let sel = -1;
  let drawnArrows = 0;
  let lastDrawMs = 0;
  let firstRenderMs = -1;

  const canvas = document.getElementById('canvas');
  const ctx = canvas.getContext('2d');
  const diagram = document.getElementById('diagram');
  const tip = document.getElementById('tip');
  let widthPx = 0;
  let heightPx = 0;
  let laneH = 40;

  function lowerBound(arr, v) {
    let lo = 0, hi = arr.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (arr[mid] < v) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function upperBound(arr, v) {
    let lo = 0, hi = arr.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (arr[mid] <= v) lo = mid + 1; else hi = mid; }
    return lo;
  }
  // Position along the axis of an event position (or n: the end of the run).
  const X = (pos) => {
    if (axis === 'order') return pos;
    return pos >= n ? (n ? T[n - 1] : 0) : T[pos];
  };
  const extent = () => (axis === 'order' ? [0, Math.max(1, n - 1)] : [n ? T[0] : 0, n ? Math.max(T[n - 1], T[0] + 1) : 1]);
  const px = (x) => GUTTER_PX + ((x - x0) / (x1 - x0)) * (widthPx - GUTTER_PX - 12);
  const fromPx = (p) => x0 + ((p - GUTTER_PX) / (widthPx - GUTTER_PX - 12)) * (x1 - x0);
  const visibleLanes = () => nodes.map((_, l) => l).filter((l) => !hiddenNodes.has(nodes[l]));
  let laneY = new Float64Array(0);
  const clientTop = () => AXIS_PX + visibleLanes().length * laneH + 8;
  // Event positions within the window [x0, x1].
  function windowPositions() {
    if (axis === 'order') return [Math.max(0, Math.floor(x0)), Math.min(n - 1, Math.ceil(x1))];
    return [lowerBound(T, x0), upperBound(T, x1) - 1];
  }
  const shown = (k) => {
    if (hiddenNodes.has(events[k].node)) return false;
    const t = typeOfPos[k];
    return t < 0 || !hiddenTypes.has(types[t]);
  };
  const arrowShown = (a) => !hiddenNodes.has(nodes[a.from]) && !hiddenNodes.has(nodes[a.to]) && !hiddenTypes.has(types[a.type]);

  // ---- drawing --------------------------------------------------------------------------
  function layout() {
    const lanes = visibleLanes();
    widthPx = diagram.clientWidth;
    const avail = diagram.clientHeight - AXIS_PX - 16 - clients * CLIENT_ROW_PX - (clients ? 14 : 0);
    laneH = Math.max(18, Math.min(80, Math.floor(avail / Math.max(1, lanes.length))));
    heightPx = Math.max(diagram.clientHeight - 2, AXIS_PX + lanes.length * laneH + 16 + clients * CLIENT_ROW_PX + (clients ? 14 : 0));
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(widthPx * dpr);
    canvas.height = Math.round(heightPx * dpr);
    canvas.style.width = widthPx + 'px';
    canvas.style.height = heightPx + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    laneY = new Float64Array(nodes.length).fill(-1);
    lanes.forEach((l, row) => { laneY[l] = AXIS_PX + row * laneH + laneH / 2; });
  }

  function draw() {
    const started = performance.now();
    ctx.clearRect(0, 0, widthPx, heightPx);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, widthPx, heightPx);
    const [p0, p1] = windowPositions();
    drawPartitions();
    drawLanes();
    drawArrows(p0, p1);
    drawDrops(p0, p1);
    drawMarks(p0, p1);
    drawClients(p0, p1);
    drawViolations();
    drawSelection();
    drawAxis();
    drawGutter();
    lastDrawMs = performance.now() - started;
  }

  function drawPartitions() {
    const bottom = AXIS_PX + visibleLanes().length * laneH;
    ctx.font = '11px system-ui, sans-serif';
    partitions.forEach((p, idx) => {
      const a = Math.max(GUTTER_PX, px(X(p.from)));
      const b = Math.min(widthPx, px(X(p.to)));
      if (b < GUTTER_PX || a > widthPx) return;
      ctx.fillStyle = 'rgba(255,146,43,0.10)';
      ctx.fillRect(a, AXIS_PX, Math.max(1, b - a), bottom - AXIS_PX);
      ctx.fillStyle = '#d9480f';
      // Partitions in force together get labels on separate lines.
      if (b - a > 40) ctx.fillText(p.detail, a + 3, bottom - 3 - (idx % 3) * 12, b - a - 6);
    });
  }

  function drawLanes() {
    const left = GUTTER_PX;
    const right = widthPx;
    for (let l = 0; l < nodes.length; l++) {
      const y = laneY[l];
      if (y < 0) continue;
      // The lane is a line wherever the node is up: broken while down, dashed while paused.
      const gaps = downs[l].map(([a, b]) => [px(X(a)), px(X(b))]);
      ctx.strokeStyle = COLOR.lane;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([]);
      ctx.beginPath();
      let from = left;
      for (const [a, b] of gaps) {
        if (a > from) { ctx.moveTo(from, y); ctx.lineTo(Math.min(a, right), y); }
        from = Math.max(from, b);
      }
      if (from < right) { ctx.moveTo(from, y); ctx.lineTo(right, y); }
      ctx.stroke();
      for (const [a, b] of gaps) {
        if (b < left || a > right) continue;
        ctx.fillStyle = 'rgba(201,42,42,0.07)';
        ctx.fillRect(Math.max(a, left), y - laneH / 2 + 2, Math.min(b, right) - Math.max(a, left), laneH - 4);
      }
      ctx.strokeStyle = COLOR.pause;
      ctx.lineWidth = 4;
      ctx.setLineDash([6, 3]);
      ctx.beginPath();
      for (const [a, b] of pauses[l]) {
        const pa = Math.max(px(X(a)), left), pb = Math.min(px(X(b)), right);
        if (pb > pa) { ctx.moveTo(pa, y); ctx.lineTo(pb, y); }
      }
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  function arrowHead(xa, ya, xb, yb, size) {
    const ang = Math.atan2(yb - ya, xb - xa);
    ctx.moveTo(xb, yb);
    ctx.lineTo(xb - size * Math.cos(ang - 0.4), yb - size * Math.sin(ang - 0.4));
    ctx.lineTo(xb - size * Math.cos(ang + 0.4), yb - size * Math.sin(ang + 0.4));
    ctx.closePath();
  }

  function drawArrows(p0, p1) {
    const list = [];
    let k = lowerBound(arrowDst, p0);
    for (; k < arrows.length && arrows[k].dst <= p1 + arrowSpan; k++) {
      const a = arrows[k];
      if (a.src > p1 || !arrowShown(a)) continue;
      list.push(a);
    }
    drawnArrows = list.length;
    const heads = list.length <= HEADS_MAX;
    for (const dup of [false, true]) {
      ctx.strokeStyle = dup ? COLOR.dup : COLOR.arrow;
      ctx.fillStyle = ctx.strokeStyle;
      ctx.globalAlpha = list.length > 20000 ? 0.35 : 0.8;
      ctx.lineWidth = 1.2;
      ctx.setLineDash(dup ? [4, 3] : []);
      ctx.beginPath();
      for (const a of list) {
        if (a.dup !== dup) continue;
        ctx.moveTo(px(X(a.src)), laneY[a.from]);
        ctx.lineTo(px(X(a.dst)), laneY[a.to]);
      }
      ctx.stroke();
      ctx.setLineDash([]);
      if (heads) {
        ctx.beginPath();
        for (const a of list) {
          if (a.dup !== dup) continue;
          arrowHead(px(X(a.src)), laneY[a.from], px(X(a.dst)), laneY[a.to], 6);
        }
        ctx.fill();
      }
    }
    ctx.globalAlpha = 1;
    // Chain members and the selection are drawn again on top, thicker.
    for (const a of list) {
      const special = a.dst === sel || a.src === sel ? COLOR.select : chain.has(a.dst) || chain.has(a.src) ? COLOR.chain : null;
      if (!special) continue;
      ctx.strokeStyle = special;
      ctx.fillStyle = special;
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.moveTo(px(X(a.src)), laneY[a.from]);
      ctx.lineTo(px(X(a.dst)), laneY[a.to]);
      ctx.stroke();
      ctx.beginPath();
      arrowHead(px(X(a.src)), laneY[a.from], px(X(a.dst)), laneY[a.to], 8);
      ctx.fill();
    }
  }

  function dropEnd(d) {
    const xa = px(X(d.src)), ya = laneY[d.from];
    if (d.atSend) {
      // Lost at the sender: a short stub toward the receiver.
      const dir = laneY[d.to] >= ya ? 1 : -1;
      return [xa, ya, xa + 14, ya + dir * Math.min(laneH * 0.45, Math.abs(laneY[d.to] - ya) || laneH * 0.45)];
    }
    return [xa, ya, px(X(d.dst)), laneY[d.to]];
  }

  function drawDrops(p0, p1) {
    const list = [];
    for (let k = lowerBound(dropDst, p0); k < drops.length && drops[k].dst <= p1 + dropSpan; k++) {
      const d = drops[k];
      if (d.src > p1 || hiddenNodes.has(nodes[d.from]) || hiddenNodes.has(nodes[d.to]) || hiddenTypes.has(types[d.type])) continue;
      list.push(d);
    }
    ctx.strokeStyle = COLOR.drop;
    ctx.lineWidth = 1.1;
    ctx.setLineDash([2, 2]);
    ctx.beginPath();
    for (const d of list) {
      const [xa, ya, xb, yb] = dropEnd(d);
      ctx.moveTo(xa, ya);
      ctx.lineTo(xb, yb);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (const d of list) {
      const [, , xb, yb] = dropEnd(d);
      ctx.moveTo(xb - 4, yb - 4); ctx.lineTo(xb + 4, yb + 4);
      ctx.moveTo(xb + 4, yb - 4); ctx.lineTo(xb - 4, yb + 4);
    }
    ctx.stroke();
    if (list.length <= LABELS_MAX) {
      ctx.fillStyle = COLOR.drop;
      ctx.font = 'bold 10px system-ui, sans-serif';
      for (const d of list) {
        const [, , xb, yb] = dropEnd(d);
        ctx.fillText(REASON_LETTER[d.reason] || '?', xb + 5, yb + 4);
      }
    }
  }

  function drawMarks(p0, p1) {
    const count = p1 - p0 + 1;
    const labels = count <= LABELS_MAX * 4;
    ctx.font = '10px system-ui, sans-serif';
    for (let k = Math.max(0, p0); k <= p1 && k < n; k++) {
      const y = laneY[L[k]];
      if (y < 0 || !shown(k)) continue;
      const e = events[k];
      const x = px(X(k));
      switch (e.kind) {
        case 'timer_fired':
          ctx.fillStyle = COLOR.timer;
          ctx.beginPath(); ctx.moveTo(x, y - 5); ctx.lineTo(x + 4, y); ctx.lineTo(x, y + 5); ctx.lineTo(x - 4, y); ctx.fill();
          break;
        case 'crash':
          ctx.strokeStyle = COLOR.crash; ctx.lineWidth = 3;
          ctx.beginPath(); ctx.moveTo(x - 6, y - 6); ctx.lineTo(x + 6, y + 6); ctx.moveTo(x + 6, y - 6); ctx.lineTo(x - 6, y + 6); ctx.stroke();
          if (labels) { ctx.fillStyle = COLOR.crash; ctx.fillText('crash', x + 7, y - 7); }
          break;
        case 'start': case 'restart':
          ctx.fillStyle = COLOR.start;
          ctx.beginPath(); ctx.moveTo(x - 4, y - 6); ctx.lineTo(x + 7, y); ctx.lineTo(x - 4, y + 6); ctx.fill();
          if (labels && e.kind === 'restart') ctx.fillText('restart', x + 7, y - 7);
          break;
        case 'pause': case 'resume':
          ctx.fillStyle = COLOR.pause;
          ctx.fillRect(x - 2, y - 7, 4, 14);
          if (labels) ctx.fillText(e.kind, x + 4, y - 8);
          break;
        case 'clock_skew': case 'clock_jump':
          ctx.strokeStyle = COLOR.skew; ctx.lineWidth = 1.5;
          ctx.strokeRect(x - 6, y - 4, 12, 8);
          if (labels) {
            ctx.fillStyle = COLOR.skew;
            const text = e.kind === 'clock_skew' ? 'clock ' + signed(e.offset) + (e.drift_ppm ? ', ' + e.drift_ppm + ' ppm' : '') : 'clock jump ' + signed(e.by);
            ctx.fillText(text, x + 8, y + 12);
          }
          break;
        case 'hold':
          ctx.strokeStyle = COLOR.hold; ctx.lineWidth = 1.5;
          ctx.beginPath(); ctx.arc(x, y, 3.5, 0, 2 * Math.PI); ctx.stroke();
          break;
        case 'note':
          ctx.fillStyle = COLOR.note;
          ctx.fillRect(x - 1.5, y - 9, 3, 3);
          if (labels) ctx.fillText(String(e.note || '').slice(0, 40), x + 3, y - 9);
          break;
        case 'request': case 'reply': case 'request_lost': case 'invoke': case 'complete':
          ctx.fillStyle = e.kind === 'request_lost' ? COLOR.fail : COLOR.client;
          ctx.fillRect(x - 2, y + 4, 4, 4);
          break;
        case 'clog':
          ctx.fillStyle = COLOR.drop;
          if (labels) ctx.fillText('clog → ' + e.to, x + 3, y + 12);
          break;
        default:
          break;
      }
      if (chain.has(k)) {
        ctx.strokeStyle = COLOR.chain; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.arc(x, y, 8, 0, 2 * Math.PI); ctx.stroke();
      }
    }
  }
  const signed = (s) => (String(s || '').startsWith('-') ? String(s) : '+' + s);

  function drawClients(p0, p1) {
    if (!clients) return;
    const top = clientTop();
    ctx.fillStyle = '#495057';
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillText('clients', 8, top + 4);
    const start = lowerBound(opInv, p0 - opSpan);
    for (let k = start; k < ops.length && ops[k].inv <= p1; k++) {
      const o = ops[k];
      const end = o.done < 0 ? n : o.done;
      if (end < p0) continue;
      const a = Math.max(GUTTER_PX, px(X(o.inv)));
      const b = Math.min(widthPx, px(X(end)));
      const y = top + 10 + o.client * CLIENT_ROW_PX;
      ctx.fillStyle = COLOR[o.status] || COLOR.open;
      ctx.fillRect(a, y, Math.max(2, b - a), CLIENT_ROW_PX - 3);
      if (o.inv === sel || o.done === sel) {
        ctx.strokeStyle = COLOR.select; ctx.lineWidth = 2;
        ctx.strokeRect(a, y, Math.max(2, b - a), CLIENT_ROW_PX - 3);
      }
    }
  }

  function drawViolations() {
    const bottom = heightPx;
    ctx.font = 'bold 11px system-ui, sans-serif';
    for (const m of marks) {
      const x = px(m.pos >= 0 && m.pos < n ? X(m.pos) : m.t);
      if (x < GUTTER_PX || x > widthPx) continue;
      ctx.strokeStyle = COLOR.violation; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(x, AXIS_PX); ctx.lineTo(x, bottom); ctx.stroke();
      ctx.fillStyle = COLOR.violation;
      ctx.fillText('✖ ' + (m.v.property || 'violation'), x + 4, AXIS_PX + 12);
      for (const name of m.v.nodes || []) {
        const l = laneOf.get(name);
        if (l === undefined || laneY[l] < 0) continue;
        ctx.beginPath(); ctx.arc(x, laneY[l], 9, 0, 2 * Math.PI); ctx.stroke();
      }
    }
  }

  function drawSelection() {
    if (sel < 0) return;
    const x = px(X(sel));
    ctx.strokeStyle = 'rgba(33,37,41,0.35)';
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(x, AXIS_PX); ctx.lineTo(x, heightPx); ctx.stroke();
    ctx.setLineDash([]);
    const y = laneY[L[sel]];
    if (y >= 0) {
      ctx.strokeStyle = COLOR.select; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(x, y, 7, 0, 2 * Math.PI); ctx.stroke();
    }
  }

  function drawAxis() {
    ctx.fillStyle = '#f8f9fa';
    ctx.fillRect(0, 0, widthPx, AXIS_PX);
    ctx.strokeStyle = '#dee2e6';
    ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(0, AXIS_PX - 0.5); ctx.lineTo(widthPx, AXIS_PX - 0.5); ctx.stroke();
    const span = x1 - x0;
    const target = span / Math.max(2, (widthPx - GUTTER_PX) / 110);
    const step = niceStep(target);
    ctx.fillStyle = '#495057';
    ctx.font = '11px system-ui, sans-serif';
    for (let v = Math.ceil(x0 / step) * step; v <= x1; v += step) {
      const x = px(v);
      ctx.fillRect(x, AXIS_PX - 6, 1, 6);
      ctx.fillText(axis === 'order' ? '#' + Math.round(v) : fmtTime(v, step), x + 3, 15);
    }
  }
  function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return Math.max(axis === 'order' ? 1 : 1, m * p);
    return 10 * p;
  }
  function fmtTime(ns, step) {
    const units = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];
    // The unit suits the value; the digits suit the step between neighbouring values.
    const size = Math.max(Math.abs(ns), step || 0);
    for (const [div, unit] of units) {
      if (size >= div || div === 1) {
        const digits = Math.max(0, Math.min(6, Math.ceil(-Math.log10((step || div) / div) - 1e-9)));
        return (ns / div).toFixed(digits) + unit;
      }
    }
    return ns + 'ns';
  }

  function drawGutter() {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, AXIS_PX, GUTTER_PX - 4, heightPx - AXIS_PX);
    ctx.font = '600 12px system-ui, sans-serif';
    for (let l = 0; l < nodes.length; l++) {
      const y = laneY[l];
      if (y < 0) continue;
      ctx.fillStyle = '#212529';
      ctx.fillText(nodes[l], 8, y + 4, GUTTER_PX - 14);
    }
    if (clients) {
      ctx.font = '10px system-ui, sans-serif';
      ctx.fillStyle = '#868e96';
      for (let c = 0; c < clients; c++) ctx.fillText('c' + c, 14, clientTop() + 19 + c * CLIENT_ROW_PX);
    }
  }

  // ---- interaction ----------------------------------------------------------------------
  let pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); updateReadout(); });
  }

  function setView(a, b) {
    const [e0, e1] = extent();
    const minSpan = axis === 'order' ? 4 : 100;
    let span = Math.max(minSpan, Math.min(b - a, (e1 - e0) * 1.2 + minSpan));
    const pad = (e1 - e0) * 0.1 + minSpan;
    let start = Math.min(Math.max(a, e0 - pad), e1 + pad - span);
    x0 = start;
    x1 = start + span;
    redraw();
  }
  function fit() {
    const [e0, e1] = extent();
    const pad = (e1 - e0) * 0.02 + (axis === 'order' ? 1 : 1);
    x0 = e0 - pad;
    x1 = e1 + pad;
    redraw();
  }
  function zoom(factor, at) {
    const c = at === undefined ? (x0 + x1) / 2 : at;
    setView(c - (c - x0) * factor, c + (x1 - c) * factor);
  }
  function reveal(k) {
    const x = X(k);
    if (x < x0 || x > x1) { const span = x1 - x0; setView(x - span / 2, x + span / 2); }
  }

  function select(k, keepView) {
    if (k < 0 || k >= n) return;
    sel = k;
    if (!keepView) reveal(k);
    showDetails(k);
    const [e0, e1] = extent();
    slider.value = String(Math.round(((X(k) - e0) / Math.max(1e-9, e1 - e0)) * 1000));
    redraw();
  }
  function step(dir) {
    let k = sel < 0 ? (dir > 0 ? -1 : n) : sel;
    for (k += dir; k >= 0 && k < n; k += dir) if (shown(k)) return select(k);
  }

  const slider = document.getElementById('slider');
  slider.addEventListener('input', () => {
    const [e0, e1] = extent();
    const x = e0 + (Number(slider.value) / 1000) * (e1 - e0);
    const span = x1 - x0;
    setView(x - span / 2, x + span / 2);
    let k = axis === 'order' ? Math.round(x) : lowerBound(T, x);
    while (k < n && !shown(k)) k++;
    if (k < n) { sel = k; showDetails(k); }
    redraw();
  });

  function updateReadout() {
    const r = document.getElementById('readout');
    const [p0, p1] = windowPositions();
    const inView = Math.max(0, Math.min(n - 1, p1) - Math.max(0, p0) + 1);
    const fine = (x1 - x0) / 10;
    const range = axis === 'order' ? '#' + Math.round(x0) + ' – #' + Math.round(x1) : fmtTime(Math.max(0, x0), fine) + ' – ' + fmtTime(x1, fine);
    r.textContent = range + ' · ' + inView.toLocaleString() + ' events in view';
  }

  function hit(mx, my) {
    const [p0, p1] = windowPositions();
    let best = -1;
    let bestD = HIT_PX * HIT_PX;
    const xa = fromPx(mx - HIT_PX), xb = fromPx(mx + HIT_PX);
    const q0 = axis === 'order' ? Math.max(p0, Math.floor(xa)) : Math.max(p0, lowerBound(T, xa));
    const q1 = axis === 'order' ? Math.min(p1, Math.ceil(xb)) : Math.min(p1, upperBound(T, xb) - 1);
    for (let k = q0; k <= q1; k++) {
      if (!shown(k)) continue;
      const y = laneY[L[k]];
      if (y < 0) continue;
      const dx = px(X(k)) - mx, dy = y - my;
      if (dx * dx + dy * dy <= bestD) { bestD = dx * dx + dy * dy; best = k; }
    }
    if (best < 0 && clients && my > clientTop()) {
      const c = Math.floor((my - clientTop() - 10) / CLIENT_ROW_PX);
      const x = fromPx(mx);
      for (const o of ops) {
        if (o.client !== c) continue;
        const end = o.done < 0 ? n : o.done;
        if (X(o.inv) <= x && x <= X(end)) return o.inv;
      }
    }
    return best;
  }

  let drag = null;
  canvas.addEventListener('mousedown', (ev) => {
    drag = { x: ev.offsetX, x0, x1, moved: false };
    canvas.classList.add('dragging');
    canvas.focus();
  });
  window.addEventListener('mousemove', (ev) => {
    if (drag) {
      const dx = ev.clientX - canvas.getBoundingClientRect().left - drag.x;
      if (Math.abs(dx) > 2) drag.moved = true;
      const per = (drag.x1 - drag.x0) / (widthPx - GUTTER_PX - 12);
      setView(drag.x0 - dx * per, drag.x1 - dx * per);
      return;
    }
    if (ev.target !== canvas) { tip.style.display = 'none'; return; }
    const k = hit(ev.offsetX, ev.offsetY);
    if (k < 0) { tip.style.display = 'none'; return; }
    tip.textContent = summary(k);
    tip.style.display = 'block';
    tip.style.left = Math.min(ev.offsetX + 12, widthPx - 300) + 'px';
    tip.style.top = ev.offsetY + 14 + 'px';
  });
  window.addEventListener('mouseup', (ev) => {
    if (!drag) return;
    const clicked = !drag.moved && ev.target === canvas;
    drag = null;
    canvas.classList.remove('dragging');
    if (clicked) { const k = hit(ev.offsetX, ev.offsetY); if (k >= 0) select(k, true); }
  });
  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
      const d = (ev.deltaX || ev.deltaY) * (x1 - x0) / widthPx;
      setView(x0 + d, x1 + d);
    } else {
      zoom(Math.exp(ev.deltaY * 0.002), fromPx(ev.offsetX));
    }
  }, { passive: false });

  document.addEventListener('keydown', (ev) => {
    if (ev.target && (ev.target.tagName === 'INPUT' && ev.target.type !== 'range' || ev.target.tagName === 'SELECT')) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const keys = {
      ArrowRight: () => step(1), j: () => step(1), ArrowLeft: () => step(-1), k: () => step(-1),
      Home: () => { sel = -1; step(1); }, End: () => { sel = -1; step(-1); },
      '+': () => zoom(0.5), '=': () => zoom(0.5), '-': () => zoom(2), '0': fit,
      v: () => { if (marks.length) select(Math.min(n - 1, marks[0].pos)); },
      a: () => setAxis(axis === 'time' ? 'order' : 'time'),
    };
    const f = keys[ev.key];
    if (f) { ev.preventDefault(); f(); }
  });
  const on = (id, f) => document.getElementById(id).addEventListener('click', f);
  on('first', () => { sel = -1; step(1); });
  on('prev', () => step(-1));
  on('next', () => step(1));
  on('last', () => { sel = -1; step(-1); });
  on('zoomin', () => zoom(0.5));
  on('zoomout', () => zoom(2));
  on('fit', fit);
  const axisSelect = document.getElementById('axis');
  axisSelect.addEventListener('change', () => setAxis(axisSelect.value));
  function setAxis(mode) {
    // Keep the same events in view when switching between time and order.
    const [p0, p1] = windowPositions();
    axis = mode;
    axisSelect.value = mode;
    if (p1 >= p0 && n) setView(X(Math.max(0, p0)), X(Math.min(n - 1, p1))); else fit();
  }
  window.addEventListener('resize', () => { layout(); redraw(); });

  // ---- side panel -----------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'onclick') e.addEventListener('click', v); else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  const jump = (i, label) => el('a', { class: 'jump', onclick: () => { if (posOf.has(i)) select(posOf.get(i)); } }, label || '#' + i);

  function summary(k) {
    const e = events[k];
    let s = '#' + e.i + ' ' + (e.t || fmtTime(e.t_ns)) + ' ' + e.node + ' ' + e.kind;
    if (e.to !== undefined && e.kind !== 'drop') s += ' → ' + e.to;
    if (e.from !== undefined && e.kind !== 'drop') s += ' ← ' + e.from;
    if (e.kind === 'drop') s += ' ' + e.from + ' → ' + e.to + ' (' + e.reason + ')';
    const detail = e.detail || e.note || (sendOf.has(k) ? events[sendOf.get(k)].detail : '');
    if (detail) s += '\n' + detail;
    return s;
  }

  function diffPre(before, after) {
    // Highlights the part of `after` that differs from `before` (common prefix and suffix kept).
    let a = 0;
    while (a < before.length && a < after.length && before[a] === after[a]) a++;
    let b = 0;
    while (b < before.length - a && b < after.length - a && before[before.length - 1 - b] === after[after.length - 1 - b]) b++;
    const pre = el('pre', {});
    pre.append(after.slice(0, a));
    if (after.length - b > a) pre.append(el('mark', {}, after.slice(a, after.length - b)));
    pre.append(after.slice(after.length - b));
    return pre;
  }

  function showDetails(k) {
    const box = document.getElementById('details');
    const e = events[k];
    box.className = '';
    box.dataset.index = String(e.i);
    box.dataset.kind = e.kind;
    box.replaceChildren();
    box.append(el('div', { class: 'head' }, '#' + e.i + ' ' + e.kind + ' at ' + e.node));
    const table = el('table', {});
    for (const key of Object.keys(e).sort()) {
      if (key === 'state_before' || key === 'state_after') continue;
      table.append(el('tr', {}, el('td', { class: 'k' }, key), el('td', {}, typeof e[key] === 'object' ? JSON.stringify(e[key]) : String(e[key]))));
    }
    if (sendOf.has(k) && sendOf.get(k) !== k) {
      const s = events[sendOf.get(k)];
      table.append(el('tr', {}, el('td', { class: 'k' }, 'message'), el('td', {}, s.detail || '', ' ', jump(s.i, '(sent #' + s.i + ' at ' + (s.t || s.t_ns) + ')'))));
    } else if (e.msg_id !== undefined && e.kind !== 'send') {
      const o = origins.get(e.msg_id);
      if (o && o.pos !== k) {
        const s = events[o.pos];
        table.append(el('tr', {}, el('td', { class: 'k' }, 'message'), el('td', {}, s.detail || '', ' ', jump(s.i, '(#' + s.i + ')'))));
      }
    }
    box.append(table);
    if (e.state_before !== undefined || e.state_after !== undefined) {
      box.append(el('h2', {}, 'State before'), el('pre', {}, e.state_before || ''));
      box.append(el('h2', {}, 'State after'), diffPre(e.state_before || '', e.state_after || ''));
    } else {
      const list = states[L[k]] || [];
      const at = upperBound(list, k) - 1;
      if (at >= 0) {
        const s = events[list[at]];
        box.append(el('h2', {}, 'Node state'), el('div', { class: 'muted' }, 'after ', jump(s.i)), el('pre', {}, s.state_after));
      }
    }
  }

  function showExplanations() {
    const box = document.getElementById('explanations');
    if (!marks.length && !explanations.length) return;
    box.append(el('h2', {}, 'Violation'));
    for (const m of marks) {
      const v = m.v;
      const div = el('div', { class: 'expl violation' });
      div.append(el('div', {}, el('b', {}, v.property || 'violation'), ' at ' + (v.t || fmtTime(m.t)) + ' ', m.pos >= 0 && typeof v.event === 'number' ? jump(v.event) : ''));
      if ((v.nodes || []).length) div.append(el('div', { class: 'muted' }, 'nodes: ' + v.nodes.join(', ')));
      if (v.message) div.append(el('div', { class: 'text' }, v.message));
      box.append(div);
    }
    for (const x of explanations) {
      const div = el('div', { class: 'expl' });
      div.append(el('div', {}, el('b', {}, 'Why' + (x.property ? ': ' + x.property : ''))));
      div.append(el('div', { class: 'text' }, x.text || ''));
      if ((x.chain || []).length) {
        const c = el('div', { class: 'chain' }, 'chain: ');
        for (const i of x.chain) c.append(jump(i));
        div.append(c);
      }
      box.append(div);
    }
  }

  function showFilters() {
    const nodeBox = document.getElementById('nodefilter');
    for (const name of nodes) {
      const cb = el('input', { type: 'checkbox' });
      cb.checked = true;
      cb.addEventListener('change', () => {
        if (cb.checked) hiddenNodes.delete(name); else hiddenNodes.add(name);
        layout(); redraw();
      });
      nodeBox.append(el('label', {}, cb, ' ' + name));
    }
    const typeBox = document.getElementById('typefilter');
    const counts = new Map();
    for (let k = 0; k < n; k++) if (events[k].kind === 'send') counts.set(typeOfPos[k], (counts.get(typeOfPos[k]) || 0) + 1);
    if (!types.length) typeBox.append(el('span', { class: 'muted' }, 'no messages'));
    types.forEach((t, idx) => {
      const cb = el('input', { type: 'checkbox' });
      cb.checked = true;
      cb.addEventListener('change', () => {
        if (cb.checked) hiddenTypes.delete(t); else hiddenTypes.add(t);
        redraw();
      });
      typeBox.append(el('label', {}, cb, ' ' + t + ' ', el('span', { class: 'muted' }, '(' + (counts.get(idx) || 0) + ')')));
    });
  }

  function showHeader() {
    document.getElementById('title').textContent = meta.title || 'faultline run';
    const parts = [];
    if (meta.protocol) parts.push(meta.protocol + (meta.bug ? ' (bug: ' + meta.bug + ')' : ''));
    if (meta.seed !== undefined && meta.seed !== null) parts.push('seed ' + meta.seed);
    parts.push(nodes.length + ' nodes', n.toLocaleString() + ' events', arrows.length.toLocaleString() + ' deliveries', drops.length.toLocaleString() + ' drops');
    if (meta.trace_hash) parts.push('trace ' + meta.trace_hash);
    const m = document.getElementById('meta');
    m.textContent = parts.join(' · ') + ' ';
    const outcome = meta.outcome || (marks.length ? 'violation' : null);
    if (outcome) m.append(el('span', { class: 'badge ' + outcome }, outcome));
  }

  // ---- start ----------------------------------------------------------------------------
  showHeader();
  showExplanations();
  showFilters();
  layout();
  fit();
  draw();
  pending = false;
  updateReadout();
  firstRenderMs = performance.now() - loadStart;
  document.body.dataset.ready = '1';

  window.faultlineViewer = {
    // Counts of the model, and of the arrows drawn in the last frame.
    stats: () => ({
      events: n,
      deliveries: arrows.length,
      arrows: arrows.length,
      drawnArrows,
      drops: drops.length,
      clientOps: ops.length,
      violations: marks.length,
      explanations: explanations.length,
      chain: chain.size,
      nodes: nodes.length,
      firstRenderMs,
      lastDrawMs,
    }),
    select: (i) => { if (posOf.has(i)) select(posOf.get(i)); },
    selected: () => (sel < 0 ? null : events[sel].i),
    step,
    fit: () => { fit(); draw(); pending = false; },
    zoom: (f) => { zoom(f); draw(); pending = false; },
    view: () => [x0, x1],
    setAxis: (mode) => { setAxis(mode); draw(); pending = false; },
    draw: () => { draw(); return lastDrawMs; },
  };
})();
