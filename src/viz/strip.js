// The state strip under each lane (see model.js): each node's summary (src/viz/summaries.rs)
// over time. A band coloured by the role, the fields as small text where they change, and the
// tail of the log as a row of cells labelled with each entry's term (or value): committed
// cells filled, an entry that replaced a different one at the same index outlined red.
  const STRIP_PX = 44;
  const CELL_W_PX = 17;
  const CELL_H_PX = 14;
  const STANDING_COLOR = { leader: '#212529', candidate: '#f59f00', follower: '#ced4da' };
  const OVERWRITE_COLOR = '#e03131';

  // Per lane, the node's summaries in order: {pos, end, r, cells: [{index, label, committed,
  // overwritten, was}], text, overwrites}; `end` is where the next one (or a crash) takes over.
  const strips = nodes.map(() => []);
  let summariesCapped = null;
  const overwrites = []; // {pos, node, index, was, label, committed}
  (function readSummaries() {
    const byLane = nodes.map(() => []);
    for (const r of data.records) {
      if (r.kind === 'summaries_capped') summariesCapped = r;
      if (r.kind !== 'summary' || !posOf.has(r.e)) continue;
      const l = lane(r.node);
      while (byLane.length <= l) { byLane.push([]); strips.push([]); }
      byLane[l].push({ pos: posOf.get(r.e), r });
    }
    byLane.forEach((list, l) => {
      list.sort((a, b) => a.pos - b.pos);
      // The label last seen at each index of this node's log, kept across truncations so that
      // an entry cut and later replaced by a different one counts as overwritten.
      const seen = new Map();
      const crashes = (downs[l] || []).map(([a]) => a);
      list.forEach((s, j) => {
        const next = j + 1 < list.length ? list[j + 1].pos : n;
        const crash = crashes[upperBound(crashes, s.pos)];
        s.end = crash !== undefined && crash < next ? crash : next;
        const cells = (s.r.l || []).map(([label, committed], c) => ({ index: (s.r.l0 || 0) + c, label, committed: !!committed, overwritten: false, was: null }));
        for (const c of cells) {
          const was = seen.get(c.index);
          // An empty label is an entry not settled yet: filling it in overwrites nothing.
          if (was !== undefined && was !== '' && was !== c.label) {
            c.overwritten = true;
            c.was = was;
            overwrites.push({ pos: s.pos, node: nodes[l], index: c.index, was, label: c.label, committed: c.committed });
          }
          seen.set(c.index, c.label);
        }
        s.cells = cells;
        s.overwrites = cells.some((c) => c.overwritten);
        s.key = cells.map((c) => c.label + (c.committed ? '*' : '')).join(',') + '@' + (s.r.l0 || 0);
        s.text = [s.r.r || ''].concat((s.r.f || []).map(([k, v]) => k + ' ' + v)).filter((t) => t).join(' · ');
        strips[l].push(s);
      });
    });
  })();
  const hasStrips = strips.some((list) => list.length > 0);
  const stripEnds = strips.map((list) => list.map((s) => s.end));
  const stripPx = hasStrips ? STRIP_PX : 0;
  let drawnCellRows = 0;
  let drawnOverwrites = 0;

  // The summary of lane l in force at event position k (the last one at or before it).
  function summaryAt(l, k) {
    const list = strips[l] || [];
    let lo = 0, hi = list.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid].pos <= k) lo = mid + 1; else hi = mid; }
    return lo > 0 && k < list[lo - 1].end ? list[lo - 1] : null;
  }

  // A colour per label, so that entries of one term look alike on every node.
  function labelHue(label) {
    let h = 0;
    for (let c = 0; c < label.length; c++) h = (h * 31 + label.charCodeAt(c)) >>> 0;
    return (h * 137.508) % 360;
  }
  function cellColors(c) {
    const hue = labelHue(c.label);
    return c.committed
      ? { fill: 'hsl(' + hue + ',55%,42%)', text: '#fff', line: 'hsl(' + hue + ',55%,30%)' }
      : { fill: 'hsl(' + hue + ',70%,92%)', text: '#212529', line: 'hsl(' + hue + ',35%,60%)' };
  }

  function drawStrips(p0, p1) {
    drawnCellRows = 0;
    drawnOverwrites = 0;
    if (!hasStrips) return;
    for (let l = 0; l < nodes.length; l++) {
      if (laneY[l] < 0 || !(strips[l] || []).length) continue;
      const top = laneTop(l) + laneH - stripPx;
      const list = strips[l];
      // The summaries that overlap the window [p0, p1].
      let j = lowerBound(stripEnds[l], p0);
      const shownList = [];
      for (; j < list.length && list[j].pos <= p1; j++) if (list[j].end >= p0) shownList.push(list[j]);
      drawBand(shownList, top);
      drawTexts(shownList, top + 6);
      drawCells(shownList, top + 18);
    }
  }

  function span(s) {
    const a = Math.max(GUTTER_PX, px(X(s.pos)));
    const b = Math.min(widthPx, px(X(s.end)));
    return [a, b];
  }

  function drawBand(list, top) {
    for (const s of list) {
      if (!STANDING_COLOR[s.r.s]) continue;
      const [a, b] = span(s);
      ctx.fillStyle = STANDING_COLOR[s.r.s];
      ctx.fillRect(a, top, Math.max(1, b - a), s.r.s === 'leader' ? 5 : 4);
    }
    // A tick wherever the summary changed: changes too close for their cells still show.
    ctx.fillStyle = 'rgba(33,37,41,0.45)';
    for (const s of list) {
      const [a] = span(s);
      ctx.fillRect(a, top, 1, 6);
    }
    ctx.fillStyle = OVERWRITE_COLOR;
    for (const s of list) {
      if (!s.overwrites) continue;
      const [a] = span(s);
      ctx.fillRect(a - 1, top - 2, 3, STRIP_PX - 2);
    }
  }

  // Of the stretches of `list` with one key, those that fit side by side: the ones that must
  // show (an overwrite) first, then the longest lasting, since what a node held for long is
  // what a reader looks for; changes too close together for all of them lose the short ones.
  function place(list, keyOf, widthOf, must) {
    const runs = [];
    for (const s of list) {
      const key = keyOf(s);
      const [a, b] = span(s);
      const last = runs[runs.length - 1];
      if (last && last.key === key && !must(s)) { last.b = b; continue; }
      runs.push({ s, key, a, b, w: widthOf(s), must: must(s) });
    }
    runs.sort((p, q) => (q.must - p.must) || (q.b - q.a) - (p.b - p.a) || p.a - q.a);
    const placed = [];
    for (const r of runs) {
      const lo = r.a, hi = r.a + r.w;
      if (!r.must && placed.some((p) => lo < p.a + p.w && p.a < hi)) continue;
      placed.push(r);
    }
    return placed;
  }

  // Role and fields where they change.
  function drawTexts(list, top) {
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = '#343a40';
    // Widths are estimated: measuring every change of a long run would slow each frame.
    for (const r of place(list, (s) => s.text, (s) => s.text.length * 5.6 + 8, () => false)) {
      ctx.fillText(r.s.text, r.a + 2, top + 9, Math.max(8, widthPx - r.a - 4));
    }
  }

  // The log's cells where the log changed; a row that holds an overwritten entry always.
  function drawCells(list, top) {
    const width = (s) => (s.cells.length ? s.cells.length * CELL_W_PX + 8 : 32);
    for (const r of place(list, (s) => s.key, width, (s) => s.overwrites)) {
      if (r.s.cells.length) {
        drawRow(r.s, r.a + 2, top);
      } else if (r.s.r.ln === 0) {
        ctx.fillStyle = '#868e96';
        ctx.font = '9px system-ui, sans-serif';
        ctx.fillText('empty', r.a + 2, top + 10);
      }
    }
  }

  function drawRow(s, x, top) {
    drawnCellRows++;
    ctx.font = '600 9px system-ui, sans-serif';
    ctx.textAlign = 'center';
    s.cells.forEach((c, j) => {
      const cx = x + j * CELL_W_PX;
      const col = cellColors(c);
      ctx.fillStyle = col.fill;
      ctx.fillRect(cx, top, CELL_W_PX - 2, CELL_H_PX);
      ctx.strokeStyle = c.overwritten ? OVERWRITE_COLOR : col.line;
      ctx.lineWidth = c.overwritten ? 2.5 : 1;
      ctx.strokeRect(cx + 0.5, top + 0.5, CELL_W_PX - 3, CELL_H_PX - 1);
      if (c.overwritten) drawnOverwrites++;
      ctx.fillStyle = col.text;
      ctx.fillText(c.label || '·', cx + (CELL_W_PX - 2) / 2, top + 10.5, CELL_W_PX - 3);
    });
    // The indices of the first and last cells, so rows line up across nodes.
    ctx.font = '8px system-ui, sans-serif';
    ctx.fillStyle = '#868e96';
    const last = s.cells.length - 1;
    ctx.fillText(String(s.cells[0].index), x + (CELL_W_PX - 2) / 2, top + CELL_H_PX + 9);
    if (last > 0) ctx.fillText(String(s.cells[last].index), x + last * CELL_W_PX + (CELL_W_PX - 2) / 2, top + CELL_H_PX + 9);
    ctx.textAlign = 'left';
  }

  // The side panel's view of a summary: role, fields and the cells, overwrites flagged.
  function summaryPanel(s) {
    const box = document.createElement('div');
    box.className = 'summary';
    const head = document.createElement('div');
    head.textContent = s.text || '(no fields)';
    box.append(head);
    if (s.cells.length) {
      const row = document.createElement('div');
      row.className = 'cells';
      for (const c of s.cells) {
        const cell = document.createElement('span');
        const col = cellColors(c);
        cell.className = 'cell' + (c.overwritten ? ' overwritten' : '');
        cell.style.background = col.fill;
        cell.style.color = col.text;
        cell.title = 'index ' + c.index + (c.committed ? ', committed' : '') + (c.overwritten ? ', replaced ' + c.was : '');
        cell.textContent = c.label || '·';
        cell.dataset.index = String(c.index);
        row.append(cell);
      }
      box.append(row);
      const idx = document.createElement('div');
      idx.className = 'muted';
      const over = s.cells.filter((c) => c.overwritten);
      idx.textContent = 'entries ' + s.cells[0].index + '–' + s.cells[s.cells.length - 1].index + ' of ' + s.r.ln +
        (over.length ? '; overwritten: ' + over.map((c) => c.index + ' (was ' + c.was + ')').join(', ') : '');
      box.append(idx);
    }
    return box;
  }
