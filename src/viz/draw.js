// Drawing the visible window of the diagram on the canvas (see model.js).
  // ---- drawing --------------------------------------------------------------------------
  function layout() {
    const lanes = visibleLanes();
    widthPx = diagram.clientWidth;
    const avail = diagram.clientHeight - AXIS_PX - 16 - clients * CLIENT_ROW_PX - (clients ? 14 : 0);
    laneH = Math.max(18 + stripPx, Math.min(80 + stripPx, Math.floor(avail / Math.max(1, lanes.length))));
    heightPx = Math.max(diagram.clientHeight - 2, AXIS_PX + lanes.length * laneH + 16 + clients * CLIENT_ROW_PX + (clients ? 14 : 0));
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(widthPx * dpr);
    canvas.height = Math.round(heightPx * dpr);
    canvas.style.width = widthPx + 'px';
    canvas.style.height = heightPx + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    laneY = new Float64Array(nodes.length).fill(-1);
    // With a state strip, the lane's line runs through the part above its strip.
    lanes.forEach((l, row) => { laneY[l] = AXIS_PX + row * laneH + (laneH - stripPx) / 2; });
  }

  function draw() {
    const started = performance.now();
    ctx.clearRect(0, 0, widthPx, heightPx);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, widthPx, heightPx);
    const [p0, p1] = windowPositions();
    placed = [];
    // Marks stay right of the lane names.
    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER_PX, 0, widthPx - GUTTER_PX, heightPx);
    ctx.clip();
    drawPartitions();
    drawLanes();
    drawArrows(p0, p1);
    drawDrops(p0, p1);
    drawStrips(p0, p1);
    drawMarks(p0, p1);
    drawClients(p0, p1);
    drawViolations();
    drawSelection();
    ctx.restore();
    drawAxis();
    drawGutter();
    lastDrawMs = performance.now() - started;
  }

  // The top of lane l's row (its line, then its state strip if the page has summaries).
  const laneTop = (l) => laneY[l] - (laneH - stripPx) / 2;

  // The boxes of the labels written in this frame: a later label that would cover one is
  // moved (partitions) or left out (marks, arrows); hovering or selecting still shows it.
  let placed = [];
  function placeLabel(text, x, y, maxW) {
    const w = Math.min(ctx.measureText(text).width, maxW === undefined ? Infinity : maxW);
    const box = { x, y: y - 10, w, h: 12 };
    if (placed.some((b) => b.x < box.x + box.w && box.x < b.x + b.w && b.y < box.y + box.h && box.y < b.y + b.h)) return false;
    placed.push(box);
    if (maxW === undefined) ctx.fillText(text, x, y); else ctx.fillText(text, x, y, maxW);
    return true;
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
      // Partitions in force together get labels on separate lines, the lowest free one.
      if (b - a <= 40) return;
      for (let line = 0; line < 4; line++) {
        if (placeLabel(p.detail, a + 3, bottom - stripPx - 3 - ((idx + line) % 4) * 12, b - a - 6)) break;
      }
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
        ctx.fillRect(Math.max(a, left), laneTop(l) + 2, Math.min(b, right) - Math.max(a, left), laneH - 4);
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

  // Level of detail: with more arrows in view than AGG_PER_PX per pixel of width, the arrows
  // sent from one lane to another within AGG_BUCKET_PX pixels are drawn as one line (the
  // first of them), thicker the more it stands for; zooming in brings each arrow back.
  function aggregate(list) {
    const lanes = nodes.length;
    const groups = new Map();
    for (const a of list) {
      const bucket = Math.floor(px(X(a.src)) / AGG_BUCKET_PX);
      const key = ((bucket * lanes + a.from) * lanes + a.to) * 2 + (a.dup ? 1 : 0);
      const g = groups.get(key);
      if (g) g.count++; else groups.set(key, { a, count: 1 });
    }
    return [...groups.values()];
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
    labelledArrows = 0;
    const groups = list.length > AGG_PER_PX * widthPx ? aggregate(list) : list.map((a) => ({ a, count: 1 }));
    aggregatedArrows = groups.length < list.length ? groups.length : 0;
    const heads = groups.length <= HEADS_MAX;
    for (const dup of [false, true]) {
      ctx.strokeStyle = dup ? COLOR.dup : COLOR.arrow;
      ctx.fillStyle = ctx.strokeStyle;
      ctx.globalAlpha = aggregatedArrows ? 0.55 : 0.8;
      ctx.setLineDash(dup ? [4, 3] : []);
      // One path per line width: a group's line is as thick as the messages it stands for.
      const byWidth = new Map();
      for (const g of groups) {
        if (g.a.dup !== dup) continue;
        const w = g.count === 1 ? 1.2 : Math.min(6, 1.2 + Math.log2(g.count));
        if (!byWidth.has(w)) byWidth.set(w, []);
        byWidth.get(w).push(g.a);
      }
      for (const [w, as] of byWidth) {
        ctx.lineWidth = w;
        ctx.beginPath();
        for (const a of as) {
          ctx.moveTo(px(X(a.src)), laneY[a.from]);
          ctx.lineTo(px(X(a.dst)), laneY[a.to]);
        }
        ctx.stroke();
      }
      ctx.setLineDash([]);
      if (heads) {
        ctx.beginPath();
        for (const g of groups) {
          if (g.a.dup !== dup) continue;
          arrowHead(px(X(g.a.src)), laneY[g.a.from], px(X(g.a.dst)), laneY[g.a.to], 6);
        }
        ctx.fill();
      }
    }
    ctx.globalAlpha = 1;
    if (list.length <= ARROW_LABELS_MAX) drawArrowLabels(list);
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

  // Zoomed in far enough, each arrow long enough to carry it is labelled with its message's
  // type at its middle, on a light halo so that crossing arrows do not hide it.
  function drawArrowLabels(list) {
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(255,255,255,0.9)';
    ctx.fillStyle = COLOR.arrowLabel;
    // A label that would overlap one already written is left out (at most 150 of them).
    for (const a of list) {
      const label = types[a.type];
      const xa = px(X(a.src)), xb = px(X(a.dst));
      const ya = laneY[a.from], yb = laneY[a.to];
      const w = label ? ctx.measureText(label).width + 4 : 0;
      if (!label || Math.hypot(xb - xa, yb - ya) < w + 20) continue;
      const xm = (xa + xb) / 2, ym = (ya + yb) / 2;
      const box = { x: xm - w / 2, y: ym - 7, w, h: 14 };
      if (placed.some((b) => b.x < box.x + box.w && box.x < b.x + b.w && b.y < box.y + box.h && box.y < b.y + b.h)) continue;
      placed.push(box);
      ctx.strokeText(label, xm, ym);
      ctx.fillText(label, xm, ym);
    }
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    labelledArrows = list.length;
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
          if (labels) { ctx.fillStyle = COLOR.crash; placeLabel('crash', x + 7, y - 7); }
          break;
        case 'start': case 'restart':
          ctx.fillStyle = COLOR.start;
          ctx.beginPath(); ctx.moveTo(x - 4, y - 6); ctx.lineTo(x + 7, y); ctx.lineTo(x - 4, y + 6); ctx.fill();
          if (labels && e.kind === 'restart') placeLabel('restart', x + 7, y - 7);
          break;
        case 'pause': case 'resume':
          ctx.fillStyle = COLOR.pause;
          ctx.fillRect(x - 2, y - 7, 4, 14);
          if (labels) placeLabel(e.kind, x + 4, y - 8);
          break;
        case 'clock_skew': case 'clock_jump':
          ctx.strokeStyle = COLOR.skew; ctx.lineWidth = 1.5;
          ctx.strokeRect(x - 6, y - 4, 12, 8);
          if (labels) {
            ctx.fillStyle = COLOR.skew;
            const text = e.kind === 'clock_skew' ? 'clock ' + signed(e.offset) + (e.drift_ppm ? ', ' + e.drift_ppm + ' ppm' : '') : 'clock jump ' + signed(e.by);
            placeLabel(text, x + 8, y + 12);
          }
          break;
        case 'hold':
          ctx.strokeStyle = COLOR.hold; ctx.lineWidth = 1.5;
          ctx.beginPath(); ctx.arc(x, y, 3.5, 0, 2 * Math.PI); ctx.stroke();
          break;
        case 'note':
          ctx.fillStyle = COLOR.note;
          ctx.fillRect(x - 1.5, y - 9, 3, 3);
          if (labels) placeLabel(String(e.note || '').slice(0, 40), x + 3, y - 9);
          break;
        case 'request': case 'reply': case 'request_lost': case 'invoke': case 'complete':
          ctx.fillStyle = e.kind === 'request_lost' ? COLOR.fail : COLOR.client;
          ctx.fillRect(x - 2, y + 4, 4, 4);
          break;
        case 'clog':
          ctx.fillStyle = COLOR.drop;
          if (labels) placeLabel('clog → ' + e.to, x + 3, y + 12);
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
    const start = lowerBound(opInv, p0 - opSpan);
    for (let k = start; k < ops.length && ops[k].inv <= p1; k++) {
      const o = ops[k];
      const end = o.done < 0 ? n : o.done;
      if (end < p0) continue;
      const a = Math.max(GUTTER_PX, px(X(o.inv)));
      const b = Math.min(widthPx, px(X(end)));
      const y = top + 10 + o.client * CLIENT_ROW_PX;
      ctx.fillStyle = o.named === 0 ? COLOR.violation : COLOR[o.status] || COLOR.open;
      ctx.fillRect(a, y, Math.max(2, b - a), CLIENT_ROW_PX - 3);
      if (o.named >= 0) {
        // Named by the violation: the blamed op filled red, the ones beside it outlined.
        ctx.strokeStyle = COLOR.violation; ctx.lineWidth = 2;
        ctx.strokeRect(a - 1, y - 1, Math.max(2, b - a) + 2, CLIENT_ROW_PX - 1);
      }
      if (b - a > OP_LABEL_PX) {
        ctx.fillStyle = o.named === 0 ? '#ffffff' : '#212529';
        ctx.font = '9px system-ui, sans-serif';
        const room = b - a - 4;
        const label = opLabels(o).find((t) => ctx.measureText(t).width <= room);
        if (label) ctx.fillText(label, a + 2, y + CLIENT_ROW_PX - 5);
      }
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
      // Its name on the side of the line with room for it, never cut by the edge.
      const label = '✖ ' + (m.v.property || 'violation');
      const w = ctx.measureText(label).width;
      ctx.fillText(label, x + 4 + w > widthPx - 4 ? x - 4 - w : x + 4, AXIS_PX + 12);
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
      ctx.fillStyle = '#495057';
      ctx.fillText('clients', 8, clientTop() + 4);
      ctx.fillStyle = '#868e96';
      for (let c = 0; c < clients; c++) ctx.fillText(clientName(c), 14, clientTop() + 19 + c * CLIENT_ROW_PX);
    }
  }

