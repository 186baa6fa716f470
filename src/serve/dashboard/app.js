// The order-tracking dashboard: plain ES module, no build step. Everything the warehouse says is
// put in the page as text (textContent), never as HTML. Chart.js is the global of
// /vendor/chart.umd.min.js, loaded before this module.

const REFRESH_MS = 10_000;
const TOKEN_KEY = 'order-tracking.dashboard-token';

const STATE_COLORS = {
  success: '#2da44e',
  failed: '#cf222e',
  upstream_failed: '#fa4549',
  timed_out: '#bc4c00',
  running: '#0969da',
  skipped: '#8c959f',
  cancelled: '#8c959f',
  abandoned: '#8250df',
  interrupted: '#bf8700',
};

// ---------------------------------------------------------------------------------------------
// DOM helpers

/** `h('td', {class: 'num'}, 'text', child)`: an element; strings become text nodes. */
const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
};

const append = (el, children) => {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
};

const $ = (selector) => document.querySelector(selector);

// ---------------------------------------------------------------------------------------------
// Formatting

const fmtInt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const count = (n) => (n === null || n === undefined ? '' : fmtInt.format(n));

/** 0.012 s, 1.4 s, 2 min 5 s, 1 h 3 min. */
const duration = (seconds) => {
  if (seconds === null || seconds === undefined) return '';
  if (seconds < 1) return `${seconds.toFixed(3)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
};

/** `5 min ago` / `in 3 min` for an ISO time, against the browser's clock. */
const relative = (iso) => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const diff = (Date.now() - ms) / 1000;
  const s = Math.abs(diff);
  if (diff >= 0 && s < 5) return 'just now';
  let text;
  if (s < 60) text = `${Math.max(1, Math.round(s))} s`;
  else if (s < 3600) text = `${Math.round(s / 60)} min`;
  else if (s < 86_400) text = s < 36_000 ? `${Math.round(s / 360) / 10} h` : `${Math.round(s / 3600)} h`;
  else text = s < 172_800 ? `${Math.round(s / 8640) / 10} days` : `${Math.round(s / 86_400)} days`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
};

/** `2026-12-04 21:03:16 UTC`: what the tooltip and the charts show. */
const utc = (iso) => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
};

const shortUtc = (iso) => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().slice(5, 19).replace('T', ' ');
};

/** A relative time that stays current (the ticker rewrites it), the ISO time in its tooltip. */
const when = (iso) =>
  iso
    ? h('time', { datetime: iso, title: iso, dataset: { rel: '' } }, relative(iso))
    : h('span', { class: 'muted' }, '—');

/** Epoch seconds (event times in the ledger) as a `time`. */
const epochTime = (epoch) =>
  epoch === null || epoch === undefined ? '' : when(new Date(Number(epoch) * 1000).toISOString());

const tick = () => {
  for (const el of document.querySelectorAll('time[data-rel]')) el.textContent = relative(el.dateTime);
};

const pill = (state, label = String(state).replace('_', ' ')) =>
  h('span', { class: `pill s-${state}` }, label);

const kindLabel = (kind) => (kind === 'run' ? 'cycle' : kind);

// ---------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const api = async (path, options = {}) => {
  const response = await fetch(path, {
    ...options,
    headers: { Accept: 'application/json', ...(options.headers ?? {}) },
    cache: 'no-store',
    credentials: 'omit',
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    // a body that is not JSON: the status says enough
  }
  if (!response.ok)
    throw new ApiError(response.status, body?.error ?? `${response.status} ${response.statusText}`);
  return body;
};

// ---------------------------------------------------------------------------------------------
// Charts

const charts = new Map();
/** Charts of the page being built: drawn once it is in the document (Chart.js measures its box). */
let pendingCharts = [];

const drawCharts = () => {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
  const pending = pendingCharts;
  pendingCharts = [];
  if (typeof Chart === 'undefined') return;
  for (const { id, canvas, config } of pending)
    if (canvas.isConnected) charts.set(id, new Chart(canvas, config));
};

/** A chart in a fixed-height box; `id` names its canvas (tests look it up). */
const chartBox = (id, config, { tall = false, label = '' } = {}) => {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': label });
  pendingCharts.push({ id, canvas, config });
  return h('div', { class: tall ? 'chart-box tall' : 'chart-box' }, canvas);
};

const baseOptions = () => ({
  responsive: true,
  maintainAspectRatio: false,
  animation: false,
  interaction: { mode: 'index', intersect: false },
  plugins: { legend: { display: false } },
});

const gridColor = '#eaeef2';

/** The tasks of a run as floating horizontal bars from its start (seconds). */
const timelineChart = (id, detail) => {
  const tasks = detail.tasks.filter((t) => t.startedAt);
  const start = Math.min(...tasks.map((t) => Date.parse(t.startedAt)));
  const bars = tasks.map((t) => {
    const from = (Date.parse(t.startedAt) - start) / 1000;
    const to = t.endedAt ? (Date.parse(t.endedAt) - start) / 1000 : from + (t.seconds ?? 0);
    // A task of a few milliseconds still shows as a sliver.
    return [from, Math.max(to, from + 0.002)];
  });
  return chartBox(
    id,
    {
      type: 'bar',
      data: {
        labels: tasks.map((t) => t.task),
        datasets: [
          {
            label: 'task',
            data: bars,
            backgroundColor: tasks.map((t) => STATE_COLORS[t.state] ?? '#8c959f'),
            borderRadius: 2,
            barPercentage: 0.8,
            categoryPercentage: 0.9,
          },
        ],
      },
      options: {
        ...baseOptions(),
        indexAxis: 'y',
        interaction: { mode: 'nearest', intersect: true },
        scales: {
          x: {
            min: 0,
            title: { display: true, text: 'seconds from the start of the run' },
            grid: { color: gridColor },
          },
          y: { grid: { display: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const t = tasks[ctx.dataIndex];
                const rows = t.rowsWritten ?? t.rowsRead;
                return `${t.state}, ${duration(t.seconds)}${rows !== null ? `, ${count(rows)} rows` : ''}`;
              },
            },
          },
        },
      },
    },
    { label: `timeline of run ${detail.run.runId}` },
  );
};

// ---------------------------------------------------------------------------------------------
// Health banner (every page)

let overviewCache = null;

const renderBanner = (overview, error) => {
  const banner = $('#banner');
  banner.replaceChildren();
  if (error) {
    banner.className = 'banner banner-error';
    append(banner, [
      h('strong', {}, 'Unreachable'),
      h('span', {}, `the dashboard could not read the warehouse: ${error}`),
    ]);
    return;
  }
  const { health } = overview;
  banner.className = `banner banner-${health.status}`;
  banner.dataset.health = health.status;
  const title = { healthy: 'Healthy', failing: 'Failing', unknown: 'Waiting' }[health.status];
  const next = overview.nextSlots.cycle[0];
  append(banner, [
    h('strong', {}, title),
    h(
      'span',
      { class: 'reasons' },
      health.reasons.map((r) => h('span', {}, r)),
    ),
    h(
      'span',
      { class: 'side' },
      overview.current
        ? [`${kindLabel(overview.current.kind)} running since `, when(overview.current.since), ' · ']
        : '',
      next ? ['next cycle ', when(next)] : 'no cycle scheduled',
    ),
  ]);
  $('#warehouse').textContent = overview.warehouse;
};

const loadBanner = async () => {
  try {
    overviewCache = await api('/api/overview');
    renderBanner(overviewCache, null);
  } catch (error) {
    renderBanner(null, error.message);
  }
  return overviewCache;
};

// ---------------------------------------------------------------------------------------------
// Overview

const kpi = (label, value, sub, attrs = {}) =>
  h(
    'div',
    { class: 'kpi', ...attrs },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    h('div', { class: 'sub' }, sub),
  );

const panel = (title, sub, ...children) =>
  h(
    'section',
    { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', {}, title), sub ? h('span', { class: 'muted' }, sub) : null),
    ...children,
  );

/** A panel that fills its grid cell's height, its chart growing with it. */
const fillPanel = (...args) => {
  const el = panel(...args);
  el.classList.add('fill');
  return el;
};

const table = (head, rows, attrs = {}) =>
  h(
    'table',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head.map((c) => (typeof c === 'string' ? h('th', {}, c) : c)),
      ),
    ),
    h('tbody', {}, rows),
  );

const th = (text, cls) => h('th', { class: cls }, text);

const historyCharts = (history) => {
  const cycles = history.cycles;
  if (cycles.length === 0)
    return [
      panel(
        'Cycle duration',
        `last ${history.days} days`,
        h('p', { class: 'empty' }, 'No cycle in this period.'),
      ),
      panel(
        'Rows per cycle',
        `last ${history.days} days`,
        h('p', { class: 'empty' }, 'No cycle in this period.'),
      ),
    ];
  const labels = cycles.map((c) => (c.startedAt ? shortUtc(c.startedAt) : `#${c.runId}`));
  const tooltipTitle = (items) => {
    const c = cycles[items[0].dataIndex];
    return `cycle #${c.runId} · ${c.state}${c.triggeredBy ? ` · ${c.triggeredBy}` : ''}\n${c.startedAt ? utc(c.startedAt) : ''}`;
  };
  const xAxis = { ticks: { maxTicksLimit: 8, maxRotation: 0, autoSkip: true }, grid: { display: false } };
  const sub = `last ${history.days} days · ${count(cycles.length)} cycles${history.truncated ? ' (newest)' : ''}`;
  return [
    panel(
      'Cycle duration',
      sub,
      chartBox(
        'chart-duration',
        {
          type: 'bar',
          data: {
            labels,
            datasets: [
              {
                label: 'seconds',
                maxBarThickness: 48,
                data: cycles.map((c) => c.seconds),
                backgroundColor: cycles.map((c) => STATE_COLORS[c.state] ?? '#8c959f'),
                barPercentage: 1,
                categoryPercentage: 0.9,
                minBarLength: 2,
              },
            ],
          },
          options: {
            ...baseOptions(),
            scales: {
              x: xAxis,
              y: { beginAtZero: true, title: { display: true, text: 'seconds' }, grid: { color: gridColor } },
            },
            plugins: {
              legend: { display: false },
              tooltip: {
                callbacks: { title: tooltipTitle, label: (ctx) => `duration ${duration(ctx.parsed.y)}` },
              },
            },
          },
        },
        { label: 'cycle duration over the last days' },
      ),
    ),
    panel(
      'Rows per cycle',
      sub,
      chartBox(
        'chart-rows',
        {
          type: 'bar',
          data: {
            labels,
            datasets: [
              {
                label: 'landed in raw',
                maxBarThickness: 48,
                data: cycles.map((c) => c.extracted ?? 0),
                backgroundColor: '#54aeff',
                barPercentage: 1,
                categoryPercentage: 0.9,
              },
              {
                label: 'written to marts',
                maxBarThickness: 48,
                data: cycles.map((c) => c.written ?? 0),
                backgroundColor: '#8250df',
                barPercentage: 1,
                categoryPercentage: 0.9,
              },
            ],
          },
          options: {
            ...baseOptions(),
            scales: {
              x: xAxis,
              y: { beginAtZero: true, title: { display: true, text: 'rows' }, grid: { color: gridColor } },
            },
            plugins: {
              legend: {
                display: true,
                position: 'top',
                align: 'end',
                labels: { boxWidth: 10, boxHeight: 10 },
              },
              tooltip: {
                callbacks: {
                  title: tooltipTitle,
                  label: (ctx) => `${ctx.dataset.label}: ${count(ctx.parsed.y)}`,
                },
              },
            },
          },
        },
        { label: 'rows per cycle over the last days' },
      ),
    ),
  ];
};

const lagTable = (watermarks) =>
  table(
    ['table', 'cursor', th('watermark', 'num'), th('lag', 'num'), 'updated'],
    watermarks.map((w) =>
      h(
        'tr',
        {},
        h('td', { class: 'mono' }, w.table),
        h('td', { class: 'mono' }, w.cursorColumn),
        h(
          'td',
          { class: 'num', title: w.value === null ? '' : `${w.cursorColumn} = ${w.value}` },
          w.value === null
            ? h('span', { class: 'muted' }, 'none yet')
            : w.kind === 'id'
              ? count(Number(w.value))
              : shortUtc(new Date(Number(w.value) * 1000).toISOString()),
        ),
        h(
          'td',
          { class: 'num' },
          w.lagSeconds !== null
            ? duration(w.lagSeconds)
            : h(
                'span',
                { class: 'muted', title: 'an id cursor has no time lag: see when it last moved' },
                '—',
              ),
        ),
        h('td', { class: 'nowrap' }, when(w.updatedAt), w.note ? h('div', { class: 'muted' }, w.note) : null),
      ),
    ),
  );

const slotList = (slots, kind) =>
  slots.length === 0
    ? h('p', { class: 'muted' }, `no ${kind} scheduled`)
    : h(
        'ul',
        { class: 'slots' },
        slots.map((s) => h('li', {}, h('span', { class: 'mono' }, utc(s)), when(s))),
      );

const renderOverview = async (view) => {
  const [overview, history] = await Promise.all([loadBanner(), api('/api/history?days=7')]);
  if (!overview) throw new Error('the overview could not be read');
  const o = overview;
  const last = o.lastCycle;
  const monitor = o.lastMonitor;
  const topTypes = o.exceptions.byType
    .slice()
    .sort((a, b) => b.count - a.count)
    .slice(0, 2)
    .map((t) => `${t.type} ${count(t.count)}`)
    .join(', ');
  const kpis = h(
    'div',
    { class: 'kpis' },
    kpi(
      'Last cycle',
      last ? [h('a', { href: `#/runs/${last.runId}` }, `#${last.runId}`), pill(last.state)] : '—',
      last
        ? [
            when(last.endedAt ?? last.startedAt),
            last.seconds !== null ? ` · ${duration(last.seconds)}` : '',
            last.triggeredBy ? ` · ${last.triggeredBy}` : '',
          ]
        : 'no cycle yet',
      { id: 'kpi-last-cycle' },
    ),
    kpi(
      'Last success',
      o.lastSuccess ? when(o.lastSuccess.endedAt ?? o.lastSuccess.startedAt) : '—',
      o.lastSuccess ? `cycle #${o.lastSuccess.runId}` : 'none yet',
    ),
    kpi(
      'Now',
      o.current ? [pill('running'), kindLabel(o.current.kind)] : 'idle',
      o.current
        ? ['since ', when(o.current.since)]
        : o.nextSlots.cycle[0]
          ? ['next cycle ', when(o.nextSlots.cycle[0])]
          : 'no cycle scheduled',
    ),
    kpi('Open exceptions', h('a', { href: '#/exceptions' }, count(o.exceptions.open)), topTypes || 'none', {
      title: o.exceptions.byType.map((t) => `${t.type}: ${count(t.count)}`).join('\n'),
    }),
    kpi(
      'Last monitor',
      monitor ? [h('a', { href: `#/runs/${monitor.runId}` }, `#${monitor.runId}`), pill(monitor.state)] : '—',
      monitor
        ? [when(monitor.endedAt ?? monitor.startedAt), ` · ${count(monitor.findings)} findings`]
        : 'not run yet',
    ),
  );

  const timeline = o.timeline;
  const timelinePanel = fillPanel(
    timeline ? `Last cycle's tasks` : 'Last cycle',
    timeline
      ? [`#${timeline.run.runId} · `, when(timeline.run.startedAt), ` · ${duration(timeline.run.seconds)}`]
      : '',
    timeline && timeline.tasks.length > 0
      ? timelineChart('chart-timeline', timeline)
      : h('p', { class: 'empty' }, 'No finished cycle yet.'),
  );

  const [durationPanel, rowsPanel] = historyCharts(history);
  view.replaceChildren(
    kpis,
    h(
      'div',
      { class: 'grid' },
      h('div', { class: 'span-7' }, timelinePanel),
      h(
        'div',
        { class: 'span-5' },
        panel('Lag per table', 'watermark behind the clock', lagTable(o.watermarks)),
        h('div', { class: 'gap' }),
        panel(
          'Open exceptions',
          h('a', { href: '#/exceptions' }, 'all exceptions →'),
          o.exceptions.byType.length === 0
            ? h('p', { class: 'empty' }, 'None open.')
            : table(
                [th('type'), th('open', 'num'), th('last detected')],
                o.exceptions.byType.map((t) =>
                  h(
                    'tr',
                    {},
                    h(
                      'td',
                      { class: 'mono' },
                      h('a', { href: exceptionsHash({ status: 'open', type: t.type }) }, t.type),
                    ),
                    h('td', { class: 'num' }, count(t.count)),
                    h('td', { class: 'nowrap' }, when(t.newest)),
                  ),
                ),
                { id: 'open-exceptions-table' },
              ),
        ),
      ),
      h('div', { class: 'span-6' }, durationPanel),
      h('div', { class: 'span-6' }, rowsPanel),
      h(
        'div',
        { class: 'span-12' },
        panel(
          'Schedule',
          [`${o.schedule.timezone} · serving since `, when(o.startedAt)],
          h(
            'div',
            { class: 'grid' },
            h(
              'div',
              { class: 'span-6' },
              h('h2', {}, 'Next cycles ', h('code', { class: 'muted' }, o.schedule.cycle)),
              slotList(o.nextSlots.cycle, 'cycle'),
            ),
            h(
              'div',
              { class: 'span-6' },
              h('h2', {}, 'Next monitor runs ', h('code', { class: 'muted' }, o.schedule.monitor)),
              slotList(o.nextSlots.monitor, 'monitor run'),
            ),
          ),
        ),
      ),
    ),
  );
};

// ---------------------------------------------------------------------------------------------
// Runs

const RUN_STATES = [
  'success',
  'failed',
  'timed_out',
  'skipped',
  'cancelled',
  'running',
  'abandoned',
  'interrupted',
];

const runsHash = (params) => {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  const text = q.toString();
  return `#/runs${text ? `?${text}` : ''}`;
};

const renderRuns = async (view, params) => {
  const state = params.get('state') ?? '';
  const kind = params.get('kind') ?? '';
  const query = new URLSearchParams({ limit: '100' });
  if (state) query.set('state', state);
  if (kind) query.set('kind', kind);
  const page = await api(`/api/runs?${query}`);
  const runs = [...page.runs];
  const total = Object.values(page.states).reduce((a, b) => a + b, 0);

  const tbody = h('tbody', {});
  const addRows = (list) =>
    append(
      tbody,
      list.map((r) =>
        h(
          'tr',
          {
            class: 'clickable',
            dataset: { run: r.runId, state: r.state },
            onclick: () => (location.hash = `#/runs/${r.runId}`),
          },
          h('td', { class: 'num' }, h('a', { href: `#/runs/${r.runId}` }, `#${r.runId}`)),
          h('td', {}, kindLabel(r.kind)),
          h('td', { class: 'trigger' }, r.triggeredBy ?? h('span', { class: 'muted' }, '—')),
          h('td', { class: 'state' }, pill(r.state)),
          h(
            'td',
            { class: 'nowrap' },
            when(r.startedAt),
            h('span', { class: 'muted mono' }, ` ${r.startedAt ? shortUtc(r.startedAt) : ''}`),
          ),
          h(
            'td',
            { class: 'num' },
            r.state === 'running' ? h('span', { class: 'muted' }, 'running') : duration(r.seconds),
          ),
          h('td', { class: 'wrap error-text' }, r.error ?? ''),
        ),
      ),
    );
  addRows(runs);

  let next = page.next;
  const more = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        more.disabled = true;
        const q = new URLSearchParams(query);
        q.set('before', String(next));
        try {
          const older = await api(`/api/runs?${q}`);
          addRows(older.runs);
          next = older.next;
          // Older pages stay put: the automatic refresh would drop them.
          holdRefresh = true;
        } catch (error) {
          toast(`Could not load older runs: ${error.message}`);
        } finally {
          more.disabled = false;
          more.hidden = next === null;
        }
      },
    },
    'Load older runs',
  );
  more.hidden = next === null;

  view.replaceChildren(
    h(
      'div',
      { class: 'toolbar' },
      h(
        'div',
        { class: 'chips', id: 'state-filter' },
        h(
          'a',
          { class: `chip${state ? '' : ' active'}`, href: runsHash({ kind }) },
          'all ',
          h('span', { class: 'count' }, count(total)),
        ),
        RUN_STATES.map((s) =>
          h(
            'a',
            {
              class: `chip${state === s ? ' active' : ''}${page.states[s] ? '' : ' zero'}`,
              href: runsHash({ state: s, kind }),
              dataset: { state: s },
            },
            s.replace('_', ' '),
            h('span', { class: 'count' }, count(page.states[s] ?? 0)),
          ),
        ),
      ),
      h('span', { class: 'spacer' }),
      h('label', { for: 'kind-filter' }, 'kind'),
      h(
        'select',
        { id: 'kind-filter', onchange: (e) => (location.hash = runsHash({ state, kind: e.target.value })) },
        h('option', { value: '' }, 'all kinds'),
        page.kinds.map((k) => h('option', { value: k, selected: k === kind }, kindLabel(k))),
      ),
    ),
    h(
      'section',
      { class: 'panel' },
      runs.length === 0
        ? h(
            'p',
            { class: 'empty' },
            state ? `No ${state.replace('_', ' ')} run in the ledger.` : 'No run in the ledger yet.',
          )
        : h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { id: 'runs-table' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  th('run', 'num'),
                  th('kind'),
                  th('trigger'),
                  th('state'),
                  th('started'),
                  th('duration', 'num'),
                  th('error'),
                ),
              ),
              tbody,
            ),
          ),
      h('div', { class: 'toolbar more' }, more),
    ),
  );
};

const renderRun = async (view, runId) => {
  const detail = await api(`/api/runs/${encodeURIComponent(runId)}`);
  const r = detail.run;
  const rows = detail.tasks.map((t) =>
    h(
      'tr',
      { dataset: { task: t.task } },
      h('td', { class: 'mono' }, t.task),
      h('td', {}, pill(t.state)),
      h('td', { class: 'nowrap mono', title: t.startedAt ?? '' }, t.startedAt ? shortUtc(t.startedAt) : ''),
      h('td', { class: 'num' }, duration(t.seconds)),
      h('td', { class: 'num' }, count(t.rowsRead)),
      h('td', { class: 'num' }, count(t.rowsWritten)),
      h(
        'td',
        { class: 'num' },
        t.attempts === null ? '' : t.attempts > 1 ? h('strong', {}, String(t.attempts)) : String(t.attempts),
      ),
      h(
        'td',
        { class: `wrap${t.error ? ' error-text' : ''}` },
        t.error ?? t.note ?? (t.findings ? `${count(t.findings)} findings` : ''),
      ),
    ),
  );
  view.replaceChildren(
    h('p', {}, h('a', { href: '#/runs' }, '← all runs')),
    h(
      'div',
      { class: 'grid' },
      h(
        'div',
        { class: 'span-4' },
        panel(
          `${kindLabel(r.kind) === 'cycle' ? 'Cycle' : kindLabel(r.kind)} #${r.runId}`,
          null,
          h(
            'dl',
            { class: 'kv' },
            h('dt', {}, 'state'),
            h('dd', { id: 'run-state' }, pill(r.state)),
            h('dt', {}, 'triggered by'),
            h('dd', {}, r.triggeredBy ?? '—'),
            h('dt', {}, 'started'),
            h(
              'dd',
              {},
              when(r.startedAt),
              r.startedAt ? h('span', { class: 'muted mono' }, ` ${utc(r.startedAt)}`) : '',
            ),
            h('dt', {}, 'ended'),
            h('dd', {}, when(r.endedAt)),
            h('dt', {}, 'duration'),
            h('dd', {}, duration(r.seconds) || '—'),
            r.error ? [h('dt', {}, 'error'), h('dd', { class: 'error-text' }, r.error)] : null,
          ),
        ),
      ),
      h(
        'div',
        { class: 'span-8' },
        panel(
          'Timeline',
          null,
          detail.tasks.length > 0
            ? timelineChart('chart-run-timeline', detail)
            : h('p', { class: 'empty' }, 'No task recorded.'),
        ),
      ),
      h(
        'div',
        { class: 'span-12' },
        panel(
          'Tasks',
          `${detail.tasks.length}`,
          table(
            [
              th('task'),
              th('state'),
              th('started'),
              th('seconds', 'num'),
              th('rows read', 'num'),
              th('rows written', 'num'),
              th('attempts', 'num'),
              th('note / error'),
            ],
            rows,
            { id: 'tasks-table' },
          ),
        ),
      ),
    ),
  );
};

// ---------------------------------------------------------------------------------------------
// Exceptions

const exceptionsHash = (params) => {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  const text = q.toString();
  return `#/exceptions${text ? `?${text}` : ''}`;
};

const sourceRow = (e) =>
  [
    e.source_table,
    e.source_id !== null ? `#${e.source_id}` : '',
    e.traceseq !== null ? ` seq ${e.traceseq}` : '',
    e.column_name ? ` · ${e.column_name}` : '',
  ]
    .filter(Boolean)
    .join('');

/** What each type means and what to do about it (docs/how-it-works.md, the exceptions ledger). */
const TYPE_GUIDE = {
  ARCHIVE_ROUTING_GAP:
    'A tracking or order row aged out of its mart but its hist period is frozen; it stays in the mart. Unfreeze the period, then resolve: the next cycle archives it.',
  ARCHIVE_ROUTING_GAP_UTS: 'The same for a scan event (mart_uts).',
  NULL_ORDER_ID:
    'A source row without order_id: kept in raw, out of the marts. The daily monitor resolves it once the source row has one.',
  NULL_KEY: 'Another key or timestamp column is NULL (e.g. traceseq): kept in raw, out of the marts.',
  FUTURE_TIMESTAMP:
    'A timestamp more than a day ahead of the clock: held out of the marts, folded in and resolved once it is due.',
  TIMESTAMP_BEFORE_FLOOR: 'A timestamp before the floor (2000-01-01 by default): held out of the marts.',
  BAD_VALUE:
    'A value the warehouse cannot hold, stored as NULL in raw; the row stays out of the marts. Fix it at the source: resolving does not bring it in.',
  INVALID_UTF8: 'Text that is not UTF-8, replaced with U+FFFD; the row flows on into the marts.',
};
const DQ_GUIDE =
  'A daily data-quality check failed for this order; the monitor resolves it once the order passes.';

const typeGuide = (types) =>
  panel(
    'What they mean',
    'and what to do',
    types.length === 0
      ? h('p', { class: 'empty' }, 'Nothing to explain: no exception yet.')
      : h(
          'dl',
          { class: 'guide' },
          types.map((t) => [
            h('dt', { class: 'mono' }, t),
            h('dd', {}, TYPE_GUIDE[t] ?? (t.startsWith('DQ_') ? DQ_GUIDE : '')),
          ]),
        ),
  );

const renderExceptions = async (view, params) => {
  const status = params.get('status') ?? 'open';
  const type = params.get('type') ?? '';
  const order = params.get('order') ?? '';
  const query = new URLSearchParams({ status, limit: '200' });
  if (type) query.set('type', type);
  if (order) query.set('order', order);
  const page = await api(`/api/exceptions?${query}`);
  const current = { status, type, order };

  const statusLinks = h(
    'div',
    { class: 'segmented', id: 'status-filter' },
    ['open', 'resolved', 'all'].map((s) =>
      h('a', { class: s === status ? 'active' : '', href: exceptionsHash({ ...current, status: s }) }, s),
    ),
  );
  const typeSelect = h(
    'select',
    {
      id: 'type-filter',
      'aria-label': 'exception type',
      onchange: (e) => (location.hash = exceptionsHash({ ...current, type: e.target.value })),
    },
    h('option', { value: '' }, 'all types'),
    page.byType.map((t) =>
      h('option', { value: t.type, selected: t.type === type }, `${t.type} (${count(t.open)} open)`),
    ),
  );
  const orderInput = h('input', {
    id: 'order-filter',
    type: 'search',
    placeholder: 'order id',
    value: order,
    'aria-label': 'order id',
    size: 18,
  });
  const orderForm = h(
    'form',
    {
      class: 'toolbar-form',
      onsubmit: (e) => {
        e.preventDefault();
        location.hash = exceptionsHash({ ...current, order: orderInput.value.trim() });
      },
    },
    orderInput,
    ' ',
    h('button', { type: 'submit' }, 'Filter'),
  );

  const byTypeRows = page.byType.map((t) =>
    h(
      'tr',
      {
        class: `clickable${t.type === type ? ' selected' : ''}`,
        onclick: () => (location.hash = exceptionsHash({ ...current, type: t.type })),
      },
      h('td', { class: 'mono' }, h('a', { href: exceptionsHash({ ...current, type: t.type }) }, t.type)),
      h('td', { class: 'num' }, t.open > 0 ? h('strong', {}, count(t.open)) : '0'),
      h('td', { class: 'num' }, count(t.count)),
      h('td', { class: 'nowrap' }, when(t.oldest)),
      h('td', { class: 'nowrap' }, when(t.newest)),
    ),
  );

  const rows = page.rows.map((e) =>
    h(
      'tr',
      { dataset: { exception: e.exception_id } },
      h('td', { class: 'num' }, String(e.exception_id)),
      h('td', { class: 'mono' }, e.exception_type),
      h('td', { class: 'mono' }, e.order_id ?? h('span', { class: 'muted' }, 'NULL')),
      h('td', { class: 'mono nowrap' }, sourceRow(e)),
      h('td', { class: 'nowrap' }, epochTime(e.event_time ?? e.pathtime)),
      h('td', { class: 'nowrap' }, when(e.detected_at)),
      h(
        'td',
        { class: 'nowrap' },
        e.resolved_at ? [pill('resolved'), ' ', when(e.resolved_at)] : pill('open'),
      ),
      h('td', { class: 'wrap notes' }, e.notes ?? ''),
      h(
        'td',
        { class: 'nowrap' },
        page.writable && !e.resolved_at
          ? h(
              'button',
              {
                type: 'button',
                class: 'small resolve',
                onclick: () =>
                  openResolve({
                    title: `Resolve exception #${e.exception_id}`,
                    what: `${e.exception_type} · order ${e.order_id ?? 'NULL'}${sourceRow(e) ? ` · ${sourceRow(e)}` : ''}`,
                    body: { id: Number(e.exception_id) },
                  }),
              },
              'Resolve',
            )
          : '',
      ),
    ),
  );

  const typeOpen = type ? (page.byType.find((t) => t.type === type)?.open ?? 0) : 0;
  const bulk =
    page.writable && type && status !== 'resolved' && page.open > 0
      ? h(
          'button',
          {
            type: 'button',
            class: 'danger-outline',
            id: 'resolve-all',
            onclick: () =>
              openResolve({
                title: `Resolve ${count(page.open)} open ${type}`,
                what: `Every open ${type} exception${order ? ` of order ${order}` : ''} (${count(order ? page.open : typeOpen)}) is marked resolved.`,
                body: order ? { type, order } : { type },
              }),
          },
          `Resolve all ${count(page.open)} open…`,
        )
      : null;

  const what = [
    `${count(page.total)} matching`,
    status !== 'open' ? ` · ${count(page.open)} open` : '',
    page.total > page.rows.length ? ` · showing the newest ${count(page.rows.length)}` : '',
  ].join('');

  view.replaceChildren(
    h(
      'div',
      { class: 'grid' },
      h(
        'div',
        { class: 'span-7' },
        panel(
          'By type',
          'whole ledger; a type filters the list below',
          page.byType.length === 0
            ? h('p', { class: 'empty' }, 'The ledger is empty.')
            : table(
                [
                  th('type'),
                  th('open', 'num'),
                  th('total', 'num'),
                  th('first detected'),
                  th('last detected'),
                ],
                byTypeRows,
                {
                  id: 'types-table',
                },
              ),
        ),
      ),
      h('div', { class: 'span-5' }, typeGuide(page.byType.map((t) => t.type))),
      h(
        'div',
        { class: 'span-12' },
        h(
          'section',
          { class: 'panel' },
          h(
            'div',
            { class: 'toolbar' },
            statusLinks,
            typeSelect,
            orderForm,
            type || order ? h('a', { href: exceptionsHash({ status }) }, 'clear filters') : null,
            h('span', { class: 'spacer' }),
            h('span', { class: 'muted', id: 'exceptions-count' }, what),
            bulk,
          ),
          page.writable
            ? null
            : h(
                'p',
                { class: 'readonly-note' },
                'Read-only: start serve with ORDER_TRACKING_DASHBOARD_TOKEN set to resolve exceptions here (or use order-tracking exceptions resolve).',
              ),
          page.rows.length === 0
            ? h('p', { class: 'empty' }, 'No exception matches.')
            : h(
                'div',
                { class: 'table-scroll' },
                table(
                  [
                    th('id', 'num'),
                    th('type'),
                    th('order'),
                    th('source row'),
                    th('event time'),
                    th('detected'),
                    th('status'),
                    th('notes', 'notes'),
                    th(''),
                  ],
                  rows,
                  { id: 'exceptions-table' },
                ),
              ),
        ),
      ),
    ),
  );
};

// The resolve dialog: a note, and the token when this tab has none (or it was refused).

let resolving = null;

const openResolve = (target) => {
  resolving = target;
  const dialog = $('#resolve-dialog');
  $('#resolve-title').textContent = target.title;
  $('#resolve-what').textContent = target.what;
  $('#resolve-note').value = '';
  $('#resolve-error').hidden = true;
  const token = sessionStorage.getItem(TOKEN_KEY);
  $('#resolve-token').value = '';
  $('#resolve-token-row').hidden = Boolean(token);
  $('#resolve-submit').disabled = false;
  dialog.showModal();
  $('#resolve-note').focus();
};

const showResolveError = (message) => {
  const el = $('#resolve-error');
  el.textContent = message;
  el.hidden = false;
};

const submitResolve = async (event) => {
  event.preventDefault();
  if (!resolving) return;
  const note = $('#resolve-note').value.trim();
  if (!note) return showResolveError('Write a note: why is it resolved?');
  const typed = $('#resolve-token').value;
  const token = $('#resolve-token-row').hidden ? sessionStorage.getItem(TOKEN_KEY) : typed;
  if (!token) {
    $('#resolve-token-row').hidden = false;
    return showResolveError('The dashboard token is needed to resolve.');
  }
  $('#resolve-submit').disabled = true;
  try {
    const result = await api('/api/exceptions/resolve', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ ...resolving.body, note }),
    });
    sessionStorage.setItem(TOKEN_KEY, token);
    $('#resolve-token').value = '';
    $('#resolve-dialog').close();
    resolving = null;
    toast(`Resolved ${count(result.resolved)} exception${result.resolved === 1 ? '' : 's'}`);
    await render();
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      $('#resolve-token-row').hidden = false;
      $('#resolve-token').value = '';
      $('#resolve-token').focus();
    }
    showResolveError(error.message);
  } finally {
    $('#resolve-submit').disabled = false;
  }
};

let toastTimer = null;
const toast = (message) => {
  const el = $('#toast');
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 4000);
};

// ---------------------------------------------------------------------------------------------
// Tables

const MART_LABELS = {
  mart_uti: 'uni_tracking_info',
  mart_ecs: 'ecs_order_info',
  mart_uts: 'uni_tracking_spath',
};
const MART_COLORS = { mart_uti: '#54aeff', mart_ecs: '#4ac26b', mart_uts: '#8250df' };

const rowsCell = (t) =>
  h(
    'td',
    { class: 'num', title: t.estimated ? 'the server’s estimate' : '' },
    t.exists ? `${t.estimated ? '≈ ' : ''}${count(t.rows)}` : h('span', { class: 'muted' }, 'absent'),
  );

const renderTables = async (view) => {
  const t = await api('/api/tables');
  const martKeys = ['mart_uti', 'mart_ecs', 'mart_uts'];
  const martTables = Object.fromEntries(martKeys.map((k, i) => [k, t.marts[i]]));
  const sum = (list) => list.reduce((n, x) => n + (x?.rows ?? 0), 0);

  const periodRows = t.hist.map((p) => {
    const of = (mart) => p.tables.find((x) => x.mart === mart);
    return h(
      'tr',
      { dataset: { period: p.period } },
      h('td', { class: 'mono' }, p.period),
      martKeys.map((m) => (of(m) ? rowsCell(of(m)) : h('td', { class: 'num muted' }, '—'))),
      h('td', { class: 'num' }, `${p.estimated ? '≈ ' : ''}${count(p.rows)}`),
    );
  });
  const martRow = h(
    'tr',
    { class: 'total' },
    h('td', {}, 'mart (active window)'),
    martKeys.map((m) => rowsCell(martTables[m])),
    h('td', { class: 'num' }, count(sum(t.marts))),
  );

  const labels = [...t.hist.map((p) => p.period), 'mart'];
  const sizeChart = chartBox(
    'chart-sizes',
    {
      type: 'bar',
      data: {
        labels,
        datasets: martKeys.map((m) => ({
          label: MART_LABELS[m],
          data: [
            ...t.hist.map((p) => p.tables.find((x) => x.mart === m)?.rows ?? 0),
            martTables[m]?.rows ?? 0,
          ],
          backgroundColor: MART_COLORS[m],
        })),
      },
      options: {
        ...baseOptions(),
        scales: {
          x: { stacked: true, grid: { display: false } },
          y: {
            stacked: true,
            beginAtZero: true,
            title: { display: true, text: 'rows' },
            grid: { color: gridColor },
          },
        },
        plugins: {
          legend: { display: true, position: 'top', align: 'end', labels: { boxWidth: 10, boxHeight: 10 } },
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${count(ctx.parsed.y)}` } },
        },
      },
    },
    { tall: true, label: 'rows per hist period and mart' },
  );

  const monitor = t.lastMonitor;
  const dqRows = t.dq.map((d) =>
    h(
      'tr',
      { dataset: { check: d.check } },
      h('td', { class: 'mono' }, d.check),
      h('td', {}, d.failing > 0 ? pill('failed', 'failing') : pill('success', 'pass')),
      h('td', { class: 'num' }, count(d.failing)),
      h('td', { class: 'wrap mono' }, d.sample.join(', ')),
      h('td', { class: 'nowrap' }, when(d.checkedAt)),
    ),
  );
  const stepRows = (monitor?.steps ?? []).map((s) =>
    h(
      'tr',
      {},
      h('td', { class: 'mono' }, s.step),
      h('td', {}, pill(s.state)),
      h('td', { class: 'num' }, duration(s.seconds)),
      h('td', { class: 'num' }, count(s.findings)),
      h('td', { class: 'wrap' }, s.note),
    ),
  );

  view.replaceChildren(
    h(
      'div',
      { class: 'grid' },
      h(
        'div',
        { class: 'span-7' },
        panel(
          'Rows by period',
          'hist tables by half-year, and the marts’ 6-month window',
          t.hist.length === 0 && sum(t.marts) === 0 ? h('p', { class: 'empty' }, 'No rows yet.') : sizeChart,
        ),
      ),
      h(
        'div',
        { class: 'span-5' },
        panel(
          'Marts and hist',
          'rows',
          table(
            [
              th('period'),
              th('tracking (uti)', 'num'),
              th('orders (ecs)', 'num'),
              th('scans (uts)', 'num'),
              th('total', 'num'),
            ],
            [...periodRows, martRow],
            { id: 'sizes-table' },
          ),
        ),
        h('div', { class: 'gap' }),
        panel(
          'Raw',
          'landed rows not yet cleaned up',
          table(
            [th('table'), th('rows', 'num')],
            t.raw.map((r) => h('tr', {}, h('td', { class: 'mono' }, `${r.schema}.${r.table}`), rowsCell(r))),
            { id: 'raw-table' },
          ),
        ),
      ),
      h(
        'div',
        { class: 'span-6' },
        panel(
          'Data quality',
          monitor
            ? [
                'monitor ',
                h('a', { href: `#/runs/${monitor.runId}` }, `#${monitor.runId}`),
                ' · ',
                when(monitor.endedAt ?? monitor.startedAt),
              ]
            : 'no monitor run yet',
          t.dq.length === 0
            ? h('p', { class: 'empty' }, 'No check recorded yet: the daily monitor records them.')
            : table(
                [th('check'), th('result'), th('failing', 'num'), th('sample orders'), th('checked')],
                dqRows,
                { id: 'dq-table' },
              ),
        ),
      ),
      h(
        'div',
        { class: 'span-6' },
        panel(
          'Last monitor run',
          monitor ? [pill(monitor.state), ' ', duration(monitor.seconds)] : '',
          stepRows.length === 0
            ? h('p', { class: 'empty' }, monitor ? 'No step recorded.' : 'Not run yet.')
            : table(
                [th('step'), th('state'), th('seconds', 'num'), th('findings', 'num'), th('result')],
                stepRows,
                { id: 'monitor-table' },
              ),
        ),
      ),
    ),
  );
};

// ---------------------------------------------------------------------------------------------
// Router and refresh

const route = () => {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, search = ''] = raw.split('?');
  const parts = (path || 'overview').split('/');
  return { view: parts[0], id: parts[1], params: new URLSearchParams(search) };
};

let rendering = 0;
/** The page holds what a refresh would lose (older runs loaded): only the banner refreshes. */
let holdRefresh = false;

const render = async () => {
  const { view: name, id, params } = route();
  const token = ++rendering;
  holdRefresh = false;
  pendingCharts = [];
  for (const a of document.querySelectorAll('.tabs a')) a.classList.toggle('active', a.dataset.view === name);
  const view = h('div', {});
  const main = $('#view');
  const scroll = window.scrollY;
  try {
    if (name === 'runs' && id) await renderRun(view, id);
    else if (name === 'runs') await renderRuns(view, params);
    else if (name === 'exceptions') await renderExceptions(view, params);
    else if (name === 'tables') await renderTables(view);
    else await renderOverview(view);
    if (name !== 'overview') void loadBanner();
  } catch (error) {
    view.replaceChildren(h('p', { class: 'load-error' }, `Could not load this page: ${error.message}`));
  }
  if (token !== rendering) return; // a newer navigation won
  main.replaceChildren(...view.childNodes);
  drawCharts();
  main.dataset.view = name;
  main.dataset.loaded = String(Date.now());
  window.scrollTo(0, scroll);
  $('#updated').replaceChildren('read ', when(new Date().toISOString()));
};

/** Pages that refresh by themselves; never while the resolve dialog is open or a field has focus. */
const autoRefresh = () => {
  if (document.hidden || $('#resolve-dialog').open) return;
  const active = document.activeElement;
  if (active && (active.tagName === 'INPUT' || active.tagName === 'SELECT')) return;
  const { view } = route();
  if (view === 'exceptions' || holdRefresh) void loadBanner();
  else void render();
};

const start = () => {
  if (typeof Chart !== 'undefined') {
    Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    Chart.defaults.font.size = 11;
    Chart.defaults.color = '#656d76';
  }
  window.addEventListener('hashchange', () => void render());
  $('#refresh').addEventListener('click', () => void render());
  $('#resolve-form').addEventListener('submit', (e) => void submitResolve(e));
  $('#resolve-cancel').addEventListener('click', () => {
    $('#resolve-dialog').close();
    resolving = null;
  });
  setInterval(tick, 5_000);
  setInterval(autoRefresh, REFRESH_MS);
  void render();
};

start();
