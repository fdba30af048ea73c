// Keys, mouse, the side panel and the page's start (see model.js).
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
  // Keys and buttons zoom around the selected event, brought to the middle; with nothing
  // selected, around the middle of the view. (The wheel zooms around the pointer.)
  function zoomSelected(factor) {
    if (sel < 0) { zoom(factor); return; }
    const c = X(sel);
    const half = ((x1 - x0) * factor) / 2;
    setView(c - half, c + half);
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
    if (best < 0) {
      // In a node's state strip: the event whose summary is drawn there.
      for (let l = 0; l < nodes.length; l++) {
        const top = laneY[l] < 0 ? -1 : laneTop(l) + laneH - stripPx;
        if (top < 0 || my < top || my > top + stripPx) continue;
        const x = fromPx(mx);
        const k = axis === 'order' ? Math.round(x) : upperBound(T, x) - 1;
        const s = k >= 0 ? summaryAt(l, Math.min(k, n - 1)) : null;
        if (s) return s.pos;
      }
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
      '+': () => zoomSelected(0.5), '=': () => zoomSelected(0.5), '-': () => zoomSelected(2), '0': fit,
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
  on('zoomin', () => zoomSelected(0.5));
  on('zoomout', () => zoomSelected(2));
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
    const op = opOf(e);
    if (op) s += ' ' + opName(op) + ': ' + opLabels(op)[0].replace(/^op \d+ /, '');
    if (op && op.named === 0) s += ' (the op the violation blames)';
    else if (op && op.named > 0) s += ' (named by the violation)';
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
    const op = opOf(e);
    box.dataset.op = op ? String(op.num) : '';
    box.append(el('div', { class: 'head' }, '#' + e.i + ' ' + e.kind + ' at ' + e.node + (op ? ', ' + opName(op) : '')));
    const table = el('table', {});
    for (const key of Object.keys(e).sort()) {
      if (key === 'state_before' || key === 'state_after') continue;
      const value = key === 'client' ? clientName(e[key]) : typeof e[key] === 'object' ? JSON.stringify(e[key]) : String(e[key]);
      table.append(el('tr', {}, el('td', { class: 'k' }, key), el('td', {}, value)));
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
    const sum = summaryAt(L[k], k);
    if (sum) {
      box.append(el('h2', {}, 'Summary of ' + e.node), el('div', { class: 'muted' }, 'after ', jump(events[sum.pos].i)), summaryPanel(sum));
    }
    if (summariesCapped && e.i >= summariesCapped.e) {
      box.append(el('div', { class: 'muted' }, 'Summaries are left out from event #' + summariesCapped.e +
        ' on: a page holds at most ' + Math.round(summariesCapped.bytes_max / 1048576) + ' MB of them.'));
    }
    const st = stateOf(k);
    if (st) {
      box.append(el('h2', {}, 'State before'), el('pre', {}, st.before));
      box.append(el('h2', {}, 'State after'), diffPre(st.before, st.after));
    } else {
      const list = states[L[k]] || [];
      const at = upperBound(list, k) - 1;
      if (at >= 0) {
        const s = events[list[at]];
        box.append(el('h2', {}, 'Node state'), el('div', { class: 'muted' }, 'after ', jump(s.i)), el('pre', {}, stateOf(list[at]).after));
      }
    }
    if (statesCapped && e.i >= statesCapped.e) {
      box.append(el('div', { class: 'muted' }, 'States are left out from event #' + statesCapped.e +
        ' on: a page holds at most ' + Math.round(statesCapped.bytes_max / 1048576) + ' MB of them; a shorter run shows them all.'));
    }
  }

  function showExplanations() {
    const box = document.getElementById('explanations');
    if (!marks.length && !explanations.length) return;
    box.append(el('h2', {}, 'Violation'));
    for (const m of marks) {
      const v = m.v;
      const div = el('div', { class: 'expl violation' });
      div.append(el('div', {}, el('b', {}, v.property || 'violation'), ' at ' + (v.t || fmtTime(m.t, 1e3)) + ' ', m.pos >= 0 && typeof v.event === 'number' ? jump(v.event) : ''));
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
      labelledArrows,
      aggregatedArrows,
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
    // The client ops as the page numbers them: number, client, and the trace index of the invoke.
    ops: () => ops.map((o) => ({
      op: o.num, client: o.client, seq: o.seq, invoke: events[o.inv].i,
      named: o.named, label: opLabels(o)[0],
    })),
    // The colour [r, g, b] drawn inside the bar of op `num`, or null when it is not in view.
    opPixel: (num) => {
      const o = ops.find((q) => q.num === num);
      if (!o) return null;
      draw();
      pending = false;
      const a = Math.max(GUTTER_PX, px(X(o.inv)));
      const b = Math.min(widthPx, px(X(o.done < 0 ? n : o.done)));
      const y = clientTop() + 10 + o.client * CLIENT_ROW_PX + (CLIENT_ROW_PX - 3) / 2;
      const dpr = window.devicePixelRatio || 1;
      const d = ctx.getImageData(Math.round(((a + b) / 2) * dpr), Math.round(y * dpr), 1, 1).data;
      return [d[0], d[1], d[2]];
    },
    // Node `name`'s summaries as the strip draws them: trace index, role, fields and cells.
    summaries: (name) => (strips[laneOf.get(name)] || []).map((s) => ({
      event: events[s.pos].i, role: s.r.r || null, standing: s.r.s || null, fields: s.r.f || [],
      first: s.r.l0 || 0, len: s.r.ln || 0, cells: s.cells.map((c) => ({ ...c })),
    })),
    // Every log entry that replaced a different one at the same index of a node's log.
    overwrites: () => overwrites.map((o) => ({ event: events[o.pos].i, node: o.node, index: o.index, was: o.was, label: o.label, committed: o.committed })),
    // What the strips drew in the last frame: rows of cells, overwritten cells among them.
    strip: () => ({ rows: drawnCellRows, overwrites: drawnOverwrites, heightPx: stripPx, capped: summariesCapped }),
    // The colour [r, g, b] of node `name`'s role band in the middle of the stretch where its
    // summary after trace event i is in force, as drawn.
    bandPixel: (name, i) => {
      const l = laneOf.get(name);
      const s = l === undefined || !posOf.has(i) ? null : summaryAt(l, posOf.get(i));
      if (!s || laneY[l] < 0) return null;
      draw();
      pending = false;
      const dpr = window.devicePixelRatio || 1;
      const x = (px(X(s.pos)) + px(X(s.end))) / 2;
      const y = laneTop(l) + laneH - stripPx + 2;
      const d = ctx.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data;
      return [d[0], d[1], d[2]];
    },
    // The states before and after trace event i's handler, as the side panel shows them.
    state: (i) => (posOf.has(i) ? stateOf(posOf.get(i)) : null),
    // What the tooltip says of trace event i.
    summary: (i) => (posOf.has(i) ? summary(posOf.get(i)) : null),
    selected: () => (sel < 0 ? null : events[sel].i),
    step,
    fit: () => { fit(); draw(); pending = false; },
    zoom: (f) => { zoom(f); draw(); pending = false; },
    view: () => [x0, x1],
    setAxis: (mode) => { setAxis(mode); draw(); pending = false; },
    draw: () => { draw(); return lastDrawMs; },
  };
