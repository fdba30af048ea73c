// The faultline run viewer: a space-time diagram of one trace, drawn on a canvas.
// Everything the page needs is in these scripts, the stylesheet and the embedded JSON; nothing is
// fetched. Drawing covers only the visible window, so traces of 100,000 events stay smooth.
// The model: every record read once into arrays indexed by event position. The four
// viewer files (model.js, draw.js, strip.js, ui.js) run in this order inside one function scope.

  const COLOR = {
    arrow: '#3b6fd8', dup: '#8e44ad', drop: '#d9480f', timer: '#868e96', crash: '#c92a2a',
    start: '#2b8a3e', pause: '#f08c00', skew: '#1098ad', note: '#495057', hold: '#f08c00',
    ok: '#2f9e44', fail: '#e03131', info: '#f59f00', open: '#adb5bd', violation: '#e03131',
    chain: '#f76707', lane: '#adb5bd', select: '#212529', client: '#5c7cfa', arrowLabel: '#1c3f8c',
  };
  const REASON_LETTER = { loss: 'L', partition: 'P', node_down: 'D', capacity: 'C', fault: 'T' };
  const GUTTER_PX = 84;
  const AXIS_PX = 26;
  const CLIENT_ROW_PX = 12;
  const HIT_PX = 8;
  // Above these counts in view, arrowheads and labels are left out to keep frames fast.
  const HEADS_MAX = 4000;
  const LABELS_MAX = 400;
  // At most this many arrows in view, each long enough gets its message type written on it.
  const ARROW_LABELS_MAX = 150;
  // Above this many arrows in view per pixel of width, arrows are drawn by density, grouped
  // by sending lane, receiving lane and a bucket of this many pixels.
  const AGG_PER_PX = 1.5;
  const AGG_BUCKET_PX = 4;
  // A client op's bar this wide, or wider, shows its number.
  const OP_LABEL_PX = 34;

  const loadStart = performance.now();
  const data = JSON.parse(document.getElementById('faultline-data').textContent);
  const meta = data.meta || {};

  // ---- the model ------------------------------------------------------------------------
  const events = [];
  const violations = [];
  const explanations = [];
  const stateRecords = [];
  let statesCapped = null;
  for (const r of data.records) {
    if (r.kind === 'violation') violations.push(r);
    else if (r.kind === 'explanation') explanations.push(r);
    else if (r.kind === 'state') stateRecords.push(r);
    else if (r.kind === 'states_capped') statesCapped = r;
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

  // Node states as changes (see src/viz/states.rs): per node, its handler events in order,
  // each with its state before (`b`) and after (`a`), a whole text or hunks [keep, drop, put,
  // ...] against the node's text before it.
  const stateChains = new Map(); // node -> [{b, a}]
  const stateAt = new Map();     // event position -> {list, j}
  for (const r of stateRecords) {
    if (!posOf.has(r.e)) continue;
    if (!stateChains.has(r.node)) stateChains.set(r.node, []);
    const list = stateChains.get(r.node);
    stateAt.set(posOf.get(r.e), { list, j: list.length });
    list.push(r);
  }
  const statePart = (list, u) => (u % 2 === 0 ? list[u >> 1].b : list[u >> 1].a);
  // Text number t of a chain (before, after, before, ...), rebuilt from the whole text before it.
  function chainText(list, t) {
    let s = t;
    while (s > 0 && typeof statePart(list, s) !== 'string') s--;
    let text = typeof statePart(list, s) === 'string' ? statePart(list, s) : '';
    for (let u = s + 1; u <= t; u++) {
      const hunks = statePart(list, u);
      let out = '';
      let at = 0;
      for (let h = 0; h < hunks.length; h += 3) {
        out += text.slice(at, at + hunks[h]) + hunks[h + 2];
        at += hunks[h] + hunks[h + 1];
      }
      text = out + text.slice(at);
    }
    return text;
  }
  // The states before and after event position k's handler, or null if the page has none.
  function stateOf(k) {
    const e = events[k];
    if (e.state_after !== undefined) return { before: e.state_before || '', after: e.state_after };
    const at = stateAt.get(k);
    if (!at) return null;
    return { before: chainText(at.list, 2 * at.j), after: chainText(at.list, 2 * at.j + 1) };
  }
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
  // "client:seq" -> {client, seq, num, inv, done, status}; `num` is the op's number in the
  // clients' history, the one the report and the explanation name it by ("op 166").
  const clientOps = new Map();
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
    if (stateAt.has(k)) states[l].push(k);
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
        if (!op) { op = { client: e.client, seq: e.seq, num: e.op, inv: k, done: -1, status: 'open', input: '', output: '', named: -1 }; clientOps.set(key, op); }
        if (e.kind === 'invoke') op.input = e.detail || '';
        if (e.kind === 'complete') { op.done = k; op.status = e.status || 'info'; }
        break;
      }
      case 'reply': {
        // The node's answer: what the op returned, as the bar shows it.
        const op = clientOps.get(e.client + ':' + e.seq);
        if (op && e.detail) op.output = e.detail;
        break;
      }
      default: break;
    }
  }
  for (const [l, k] of openDown) downs[l].push([k, n]);
  for (const [l, k] of openPause) pauses[l].push([k, n]);
  const ops = Array.from(clientOps.values()).sort((a, b) => a.inv - b.inv);
  // A trace written before lines carried `op`: the history numbers ops in invocation order.
  ops.forEach((o, j) => { if (typeof o.num !== 'number') o.num = j; });
  const clientName = (c) => 'c' + c;
  // The op a client event belongs to, if any.
  const opOf = (e) => (e.client === undefined ? undefined : clientOps.get(e.client + ':' + e.seq));
  const opName = (o) => 'op ' + o.num + ' (client ' + clientName(o.client) + ')';
  // `Write { key: 0, value: 3 }` as `write(0, 3)`; `Ok(Int(5))` as `5`: short enough for a bar.
  const shortInput = (d) => {
    const name = (/^[A-Za-z]+/.exec(d) || [''])[0].toLowerCase();
    const values = Array.from(d.matchAll(/:\s*([^,{}]+)/g), (m) => m[1].trim());
    return name + (values.length ? '(' + values.join(', ') + ')' : '');
  };
  const shortOutput = (d) => {
    if (!d) return '';
    if (/^Ok\(Nil\)/.test(d)) return 'ok';
    const inner = /^Ok\((?:Int|Str|List)?\(?(.*?)\)*$/.exec(d);
    if (inner) return inner[1];
    return (/^[A-Za-z]+/.exec(d) || [d])[0].toLowerCase();
  };
  // What the op's bar says, from longest to shortest: the first that fits is drawn.
  const opLabels = (o) => {
    const input = shortInput(o.input);
    // A read that found nothing answers Ok(Nil): its result is nil, not a bare ok.
    const output = o.output === 'Ok(Nil)' && input.startsWith('read') ? 'nil' : shortOutput(o.output);
    const full = 'op ' + o.num + ' ' + input + (output ? ' → ' + output : '');
    return [full, 'op ' + o.num + ' ' + input, 'op ' + o.num];
  };
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
  // The ops a violation names, in its order: the first is the one it blames.
  const opByNum = new Map(ops.map((o) => [o.num, o]));
  for (const m of marks) {
    (m.v.ops || []).forEach((r, j) => {
      const o = opByNum.get(r.op);
      if (o && (o.named < 0 || j < o.named)) o.named = j;
    });
  }
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
  // Arrows considered for a label in the last frame (0 when there were too many in view).
  let labelledArrows = 0;
  // Lines drawn for the arrows in view when they were grouped by density (0: each drawn).
  let aggregatedArrows = 0;
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

