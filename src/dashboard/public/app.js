// The dashboard page: renders each snapshot the server streams (Server-Sent Events at /events).
// Plain browser JavaScript, no libraries: the graph and the charts are inline SVG.

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const num = (v) => typeof v === 'number' && Number.isFinite(v);

const state = { selected: undefined, open: new Set(), snapshot: undefined };

function fmtRps(v) {
  if (!num(v)) return '–';
  return v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
}
function fmtPct(v, digits = 1) {
  if (!num(v)) return '–';
  return v >= 99.95 && digits > 0 ? '100%' : `${v.toFixed(digits)}%`;
}
function fmtMs(v) {
  if (!num(v)) return '–';
  return v >= 1000 ? `${(v / 1000).toFixed(2)}s` : v >= 10 ? `${v.toFixed(0)}ms` : `${v.toFixed(1)}ms`;
}
function fmtTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}
function healthClass(e) {
  if (e.kind === 'mirror') return 'mirror';
  if (!num(e.successRate)) return 'ok';
  return e.successRate >= 99 ? 'ok' : e.successRate >= 95 ? 'warn' : 'bad';
}
const COLORS = { ok: '#2e9e5b', warn: '#e08a00', bad: '#d23b3b', mirror: '#7a4fd0' };

// ---- graph ----------------------------------------------------------------------------------

const NODE_W = 200;
const NODE_H = 58;
const COL_W = 400;
const ROW_H = 112;
const PAD = 24;

function layout(nodes) {
  const cols = new Map();
  for (const n of nodes) {
    if (!cols.has(n.layer)) cols.set(n.layer, []);
    cols.get(n.layer).push(n);
  }
  const layers = [...cols.keys()].sort((a, b) => a - b);
  const rows = Math.max(1, ...[...cols.values()].map((c) => c.length));
  const height = PAD * 2 + rows * ROW_H;
  const pos = new Map();
  layers.forEach((layer, ci) => {
    const col = cols.get(layer);
    const top = (height - col.length * ROW_H) / 2;
    col.forEach((n, ri) => pos.set(n.id, { x: PAD + ci * COL_W, y: top + ri * ROW_H + (ROW_H - NODE_H) / 2 }));
  });
  return { pos, width: PAD * 2 + (layers.length - 1) * COL_W + NODE_W, height };
}

function nodeSvg(n, p, active) {
  const cls = ['node', n.kind, state.selected === n.id ? 'selected' : '', active ? '' : 'idle'].join(' ');
  const sub =
    n.kind === 'external' ? 'external host'
    : n.kind === 'client' ? ''
    : n.kind === 'service' ? 'service without endpoints'
    : `${n.namespace ?? ''}${n.replicas !== undefined ? ` · ${n.ready ?? 0}/${n.replicas} ready` : ' · gone'}`;
  const badge = n.version
    ? `<rect class="badge-bg" x="${NODE_W - 38}" y="8" width="30" height="18" rx="9"/><text class="badge" x="${NODE_W - 23}" y="21" text-anchor="middle">${esc(n.version)}</text>`
    : '';
  const label = n.label.length > 26 ? `${n.label.slice(0, 25)}…` : n.label;
  return `<g class="${cls}" data-node="${esc(n.id)}" data-label="${esc(n.label)}" data-version="${esc(n.version ?? '')}" data-kind="${n.kind}" transform="translate(${p.x},${p.y})">
    <rect width="${NODE_W}" height="${NODE_H}" rx="8"/>
    <text class="name" x="12" y="24">${esc(label)}</text>
    <text class="sub" x="12" y="43">${esc(sub)}</text>${badge}
    <title>${esc(n.id)}</title></g>`;
}

/** A point on the cubic Bézier p0..p3 at t. */
function bezier(t, p0, p1, p2, p3) {
  const u = 1 - t;
  return u * u * u * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t * t * t * p3;
}

/** `offset`: parallel edges between the same two nodes (a mirror beside a route, blocked beside passed-through) are drawn apart. */
function edgeSvg(e, a, b, i, offset) {
  const x1 = a.x + NODE_W;
  const y1 = a.y + NODE_H / 2 + offset;
  const x2 = b.x;
  const y2 = b.y + NODE_H / 2 + offset;
  const dx = Math.max(40, (x2 - x1) / 2);
  const mirror = e.kind === 'mirror';
  const h = healthClass(e);
  const width = mirror ? 2 : Math.min(7, 1.5 + Math.log2(1 + (num(e.rps) ? e.rps : 0)));
  const forward = x2 > x1;
  const d = forward ? `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}` : `M${a.x + NODE_W / 2},${a.y + NODE_H} C${a.x},${a.y + NODE_H + 80} ${b.x + NODE_W},${b.y + NODE_H + 80} ${b.x + NODE_W / 2},${b.y + NODE_H}`;
  // Labels sit near the called end, where fanned-out edges are furthest apart.
  const t = 0.5;
  const mx = forward ? bezier(t, x1, x1 + dx, x2 - dx, x2) : (a.x + b.x + NODE_W) / 2;
  const my = (forward ? bezier(t, y1, y1, y2, y2) : Math.max(a.y, b.y) + NODE_H + 60) + offset * 1.6;
  const via = e.catchAll === 'BlackHoleCluster' ? 'blocked · ' : e.catchAll === 'PassthroughCluster' ? 'passthrough · ' : '';
  const rule = num(e.ruleWeight) ? ` (rule ${e.ruleWeight}%)` : '';
  const first = mirror ? `mirror · ${fmtRps(e.rps)} req/s` : `${via}${fmtPct(100 * e.share, 0)}${rule} · ${fmtRps(e.rps)} req/s`;
  const second = mirror ? `${Math.round(e.requests)} copies` : `${fmtPct(e.successRate)} ok · p90 ${fmtMs(e.p90Ms)}`;
  const w = Math.max(first.length, second.length) * 6.3 + 12;
  const path = `<path class="edge-line" id="edge-path-${i}" d="${d}" stroke="${COLORS[h]}" stroke-width="${width.toFixed(1)}" ${mirror ? 'stroke-dasharray="7 5"' : ''} marker-end="url(#arrow-${h})"/>`;
  const label = `<g class="edge ${h}" data-edge="${esc(e.id)}" data-source="${esc(e.source)}" data-target="${esc(e.target)}" data-kind="${e.kind}"
      data-requests="${Math.round(e.requests)}" data-share="${num(e.share) ? e.share.toFixed(4) : ''}" data-rule="${num(e.ruleWeight) ? e.ruleWeight : ''}" data-success="${num(e.successRate) ? e.successRate.toFixed(2) : ''}">
    <rect class="label-bg" x="${mx - w / 2}" y="${my - 17}" width="${w}" height="32" rx="4"/>
    <text class="label share" x="${mx}" y="${my - 3}" text-anchor="middle">${esc(first)}</text>
    <text class="label" x="${mx}" y="${my + 11}" text-anchor="middle">${esc(second)}</text>
    <title>${esc(`${e.source} → ${e.target} (${e.service})\n${Math.round(e.requests)} requests in the window; codes ${JSON.stringify(e.codes)}${Object.keys(e.flags).length ? `; flags ${JSON.stringify(e.flags)}` : ''}`)}</title></g>`;
  return { path, label };
}

function renderGraph(s) {
  const { pos, width, height } = layout(s.nodes);
  const active = new Set(s.edges.flatMap((e) => [e.source, e.target]));
  const markers = Object.entries(COLORS)
    .map(([k, c]) => `<marker id="arrow-${k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`)
    .join('');
  const drawn = s.edges.filter((e) => pos.has(e.source) && pos.has(e.target) && e.source !== e.target);
  const pairs = new Map();
  for (const e of drawn) {
    const k = `${e.source}|${e.target}`;
    pairs.set(k, [...(pairs.get(k) ?? []), e]);
  }
  const parts = drawn.map((e, i) => {
    const same = pairs.get(`${e.source}|${e.target}`);
    const offset = (same.indexOf(e) - (same.length - 1) / 2) * 14;
    return edgeSvg(e, pos.get(e.source), pos.get(e.target), i, offset);
  });
  const nodes = s.nodes.map((n) => nodeSvg(n, pos.get(n.id), active.has(n.id) || n.kind === 'workload' || n.kind === 'ingress')).join('');
  $('graph').innerHTML = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><defs>${markers}</defs>${parts.map((p) => p.path).join('')}${nodes}${parts.map((p) => p.label).join('')}</svg>`;
  for (const g of $('graph').querySelectorAll('.node')) {
    g.addEventListener('click', () => {
      if (s.workloads.some((w) => w.id === g.dataset.node)) {
        state.selected = g.dataset.node;
        render(state.snapshot);
      }
    });
  }
}

// ---- workloads ------------------------------------------------------------------------------

function renderWorkloads(s) {
  if (!s.workloads.some((w) => w.id === state.selected)) {
    state.selected = (s.workloads.find((w) => w.name !== 'istio-ingressgateway' && w.replicas > 0) ?? s.workloads[0])?.id;
  }
  $('workload-tabs').innerHTML = s.workloads
    .map((w) => `<button data-workload="${esc(w.id)}" class="${w.id === state.selected ? 'active' : ''}">${esc(w.name)}${w.version ? ` (${esc(w.version)})` : ''}</button>`)
    .join('');
  for (const b of $('workload-tabs').querySelectorAll('button')) {
    b.addEventListener('click', () => {
      state.selected = b.dataset.workload;
      render(state.snapshot);
    });
  }
  const w = s.workloads.find((x) => x.id === state.selected);
  if (!w) {
    $('workload').innerHTML = '<p class="empty">no workloads yet: lab apply -f ...</p>';
    return;
  }
  const config = w.config.length
    ? w.config
        .map((c) => {
          const key = `${w.id}|${c.kind}|${c.namespace}|${c.name}`;
          return `<details data-key="${esc(key)}" ${state.open.has(key) ? 'open' : ''}><summary>${esc(c.kind)} ${esc(c.namespace)}/${esc(c.name)}</summary><pre>${esc(c.yaml)}</pre></details>`;
        })
        .join('')
    : '<p class="empty">no VirtualService, DestinationRule, ServiceEntry or Sidecar shapes its traffic</p>';
  $('workload').innerHTML = `<div id="workload-detail" data-workload="${esc(w.id)}">
    <div class="muted">${esc(w.namespace)}/${esc(w.name)} · ${w.ready}/${w.replicas} ready · pods: ${esc(w.pods.join(', ') || 'none')}</div>
    <h3>Access log (istio-proxy, newest last)</h3>
    <pre class="logs">${w.logs.length ? esc(w.logs.join('\n')) : '(no requests yet)'}</pre>
    <h3>Traffic rules</h3>${config}</div>`;
  for (const d of $('workload').querySelectorAll('details')) {
    d.addEventListener('toggle', () => (d.open ? state.open.add(d.dataset.key) : state.open.delete(d.dataset.key)));
  }
  const logs = $('workload').querySelector('pre.logs');
  if (logs) logs.scrollTop = logs.scrollHeight;
}

// ---- egress ---------------------------------------------------------------------------------

function renderEgress(s) {
  const e = s.egress;
  const sidecars = e.sidecars.length
    ? `<p class="muted">Sidecar overrides: ${e.sidecars
        .map((x) => `${esc(x.namespace)}/${esc(x.name)}${x.selector ? ` (${esc(Object.entries(x.selector).map(([k, v]) => `${k}=${v}`).join(','))})` : ''}${x.mode ? `: ${esc(x.mode)}` : ''}`)
        .join('; ')}</p>`
    : '';
  const rows = e.hosts
    .map(
      (h) => `<tr data-host="${esc(h.host)}" data-verdict="${h.verdict}"><td>${esc(h.host)}</td><td><span class="pill ${h.verdict}">${h.verdict === 'passthrough' ? 'passed through' : h.verdict}</span></td>
        <td>${Math.round(h.requests)}</td><td>${esc(Object.entries(h.codes).map(([c, n]) => `${c}×${Math.round(n)}`).join(' ') || '–')}</td>
        <td>${esc(h.clients.map((c) => c.split('/').pop()).join(', ') || (h.serviceEntry ? `ServiceEntry ${h.serviceEntry}` : '–'))}</td></tr>`,
    )
    .join('');
  $('egress').innerHTML = `<p>Outbound traffic policy: <span class="pill mode" id="egress-mode">${esc(e.mode)}</span></p>${sidecars}
    <table><thead><tr><th>external host</th><th>verdict</th><th>requests</th><th>codes</th><th>callers</th></tr></thead>
    <tbody>${rows || '<tr><td colspan="5" class="empty">no external host called or declared</td></tr>'}</tbody></table>`;
}

// ---- canaries -------------------------------------------------------------------------------

function weightChart(c, now) {
  const W = 520;
  const H = 170;
  const L = 34;
  const B = 22;
  const pts = c.weights;
  const t0 = Math.min(pts[0]?.at ?? now, now - 10_000);
  const span = Math.max(1, now - t0);
  const x = (t) => L + ((t - t0) / span) * (W - L - 8);
  const y = (w) => H - B - (w / 100) * (H - B - 8);
  let d = '';
  pts.forEach((p, i) => {
    d += i === 0 ? `M${x(p.at).toFixed(1)},${y(p.weight).toFixed(1)}` : ` H${x(p.at).toFixed(1)} V${y(p.weight).toFixed(1)}`;
  });
  d += ` H${x(now).toFixed(1)}`;
  const grid = [0, 25, 50, 75, 100].map((w) => `<line class="grid" x1="${L}" x2="${W - 8}" y1="${y(w)}" y2="${y(w)}"/><text x="${L - 5}" y="${y(w) + 3}" text-anchor="end">${w}%</text>`).join('');
  const max = `<line x1="${L}" x2="${W - 8}" y1="${y(c.maxWeight)}" y2="${y(c.maxWeight)}" stroke="#c99a3c" stroke-dasharray="4 3"/><text x="${W - 10}" y="${y(c.maxWeight) - 4}" text-anchor="end">maxWeight ${c.maxWeight}%</text>`;
  return `<svg class="chart" data-points="${pts.length}" data-weights="${esc(pts.map((p) => p.weight).join(','))}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
    ${grid}${max}<line class="axis" x1="${L}" x2="${W - 8}" y1="${H - B}" y2="${H - B}"/>
    <path class="line" d="${d}"/>
    <text x="${L}" y="${H - 6}">${esc(fmtTime(t0))}</text><text x="${W - 8}" y="${H - 6}" text-anchor="end">${esc(fmtTime(now))}</text></svg>`;
}

function renderCanaries(s) {
  if (!s.canaries.length) {
    $('canaries').innerHTML = '';
    return;
  }
  $('canaries').innerHTML =
    '<div class="panel-head"><h2>Canary</h2></div>' +
    s.canaries
      .map((c) => {
        const checks = c.checks
          .map((k) => {
            const limit = [k.min !== undefined ? `≥ ${k.min}` : '', k.max !== undefined ? `≤ ${k.max}` : ''].filter(Boolean).join(', ');
            const value = k.name === 'request-duration' ? fmtMs(k.value) : k.name === 'request-success-rate' ? fmtPct(k.value, 2) : num(k.value) ? k.value.toFixed(2) : '–';
            const verdict = num(k.value) ? (k.ok ? 'ok' : 'fail') : 'nodata';
            const title = [k.message, k.query && `query: ${k.query.replace(/\s+/g, ' ').trim()}`].filter(Boolean).join('\n');
            return `<tr data-check="${esc(k.name)}" data-value="${num(k.value) ? k.value : ''}" data-ok="${k.ok}" title="${esc(title)}"><td>${esc(k.name)}</td><td>${esc(value)}</td><td>${esc(limit)}</td><td><span class="pill ${verdict}">${verdict === 'nodata' ? 'no data' : verdict}</span></td><td class="muted">${Math.round(k.windowMs / 100) / 10}s</td></tr>`;
          })
          .join('');
        const events = c.events
          .slice(-12)
          .reverse()
          .map((e) => `<li><time>${esc(fmtTime(e.at))}</time>${esc(e.msg)}</li>`)
          .join('');
        return `<div class="canary" id="canary-${esc(c.name)}" data-phase="${esc(c.phase)}" data-weight="${c.weight}" data-provider="${esc(c.provider ?? '')}">
          <div>
            <div class="facts">
              <div><div class="muted">${esc(c.namespace)}/${esc(c.name)} → ${esc(c.target)}</div><span class="pill ${esc(c.phase)}">${esc(c.phase)}</span></div>
              <div><div class="muted">canary weight</div><b class="weight">${c.weight}%</b></div>
              <div><div class="muted">failed checks</div><b>${c.failedChecks}/${c.threshold}</b></div>
              <div><div class="muted">steps</div><b style="font-size:13px">${esc(c.steps.join(' → '))}</b></div>
            </div>
            ${weightChart(c, s.at)}
          </div>
          <div>
            <h3>Checks (the controller's queries, answered by the <span class="provider">${esc(c.provider ?? '…')}</span> metrics provider, vs threshold)</h3>
            <table><thead><tr><th>metric</th><th>value</th><th>threshold</th><th></th><th>window</th></tr></thead><tbody>${checks}</tbody></table>
            <h3>Events</h3><ul class="events">${events || '<li class="empty">none yet</li>'}</ul>
          </div></div>`;
      })
      .join('');
}

// ---- updates --------------------------------------------------------------------------------

function render(s) {
  if (!s) return;
  $('window').textContent = `counts, success, p90 and splits: ${s.window.label}; req/s over the last ${s.rateWindowSeconds}s · updated ${fmtTime(s.at)}`;
  renderGraph(s);
  renderCanaries(s);
  renderWorkloads(s);
  renderEgress(s);
}

function setStatus(cls, text) {
  const el = $('status');
  el.className = `status ${cls}`;
  el.textContent = text;
}

const source = new EventSource('/events');
source.onmessage = (m) => {
  const update = JSON.parse(m.data);
  if (update.error) {
    setStatus('error', `cannot read the lab: ${update.error}`);
    return;
  }
  state.snapshot = update.snapshot;
  const s = state.snapshot;
  setStatus('live', `live · ${s.lab.runtime} runtime · ingress 127.0.0.1:${s.lab.ingressPort}${s.lab.timeScale !== 1 ? ` · time ×${s.lab.timeScale}` : ''}`);
  document.body.dataset.updated = String(s.at);
  render(s);
};
source.onerror = () => setStatus('error', 'disconnected; retrying…');
