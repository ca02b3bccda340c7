// autofab dashboard: keeps a copy of the server's state, merges the deltas
// that arrive on /events (server-sent events) and redraws.  Everything shown
// comes from the bus, so it is only ever written with textContent and
// attributes, never as HTML.
'use strict';

(function () {
  const FEED_MAX = 50;
  const POINTS_MAX = 240;
  const S = {
    stations: new Map(), robots: new Map(), agents: new Map(), generic: new Map(), parts: new Map(),
    feed: [], kpis: {}, energy: {}, line: {}, rates: {}, points: [], sim: null,
    factory: '', version: 0, agentsAlive: 0,
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined || typeof v !== 'number' || !isFinite(v)) return '–';
    if (digits === undefined) digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
    return v.toFixed(digits);
  }

  // The sender's clock: simulated time from the twin (hours since its
  // start), wall time from everyone else (shown as UTC time of day).
  function simText(tns) {
    if (tns > 1e17) return new Date(tns / 1e6).toISOString().slice(11, 19);
    const h = tns / 3.6e12;
    const d = Math.floor(h / 24);
    return (d > 0 ? d + 'd ' : '') + (h - 24 * d).toFixed(2) + 'h';
  }

  // How old a value is: wall-clock senders as an age ("12 s ago"),
  // simulated ones as the simulated time they were sent at.
  function asOf(tns) {
    if (typeof tns !== 'number' || tns <= 0) return '–';
    if (tns < 1e17) return 'sim ' + simText(tns);
    const s = Math.max(0, Math.round(Date.now() - tns / 1e6) / 1000);
    return s < 90 ? s.toFixed(0) + ' s ago' : s < 5400 ? (s / 60).toFixed(0) + ' min ago' : (s / 3600).toFixed(1) + ' h ago';
  }

  // ------------------------------------------------------------ merging

  function merge(d) {
    if (d.full) {
      S.stations.clear(); S.robots.clear(); S.agents.clear(); S.generic.clear(); S.parts.clear();
      S.feed = []; S.points = []; S.kpis = {}; S.energy = {}; S.line = {};
    }
    S.version = d.version || S.version;
    S.factory = d.factory || S.factory;
    if (d.sim) S.sim = d.sim;
    for (const s of d.stations || []) S.stations.set(s.name, s);
    for (const r of d.robots || []) S.robots.set(r.name, r);
    for (const a of d.agents || []) S.agents.set(a.name, a);
    for (const g of d.generic || []) S.generic.set(g.topic, g);
    for (const p of d.parts || []) S.parts.set(p.name, p);
    for (const f of d.feed || []) S.feed.push(f);
    if (S.feed.length > FEED_MAX) S.feed = S.feed.slice(-FEED_MAX);
    for (const p of d.energy_points || []) S.points.push(p);
    if (S.points.length > POINTS_MAX) S.points = S.points.slice(-POINTS_MAX);
    if (d.kpis) S.kpis = d.kpis;
    if (d.energy) S.energy = d.energy;
    if (d.line) S.line = d.line;
    if (d.rates) S.rates = d.rates;
    if (typeof d.agents_alive === 'number') S.agentsAlive = d.agents_alive;
  }

  // ------------------------------------------------------------ drawing

  function drawHeader() {
    $('factory').textContent = S.factory ? '— ' + S.factory : '';
    $('state-version').textContent = String(S.version);
    $('sim-time').textContent = S.sim ? simText(S.sim.t_ns) : '–';
    let total = 0;
    for (const k in S.rates) total += S.rates[k].msgs || 0;
    $('msg-total').textContent = String(total);
    $('agents-alive').textContent = String(S.agentsAlive);
  }

  function drawKpis() {
    for (const tile of document.querySelectorAll('[data-kpi]')) {
      const name = tile.getAttribute('data-kpi');
      $('kpi-' + name).textContent = fmt(S.kpis[name]);
    }
    $('line-units').textContent = fmt(S.line.units, 0);
    $('line-release_queue').textContent = fmt(S.line.release_queue, 0);
    $('line-defects_found').textContent = fmt(S.line.defects_found, 0);
    $('robots-busy').textContent = fmt(S.line.robots_busy, 0);
    $('energy-grid_kw').textContent = fmt(S.energy.grid_kw, 1);
    $('energy-solar_kw').textContent = fmt(S.energy.solar_kw, 1);
    $('energy-battery_soc').textContent =
      typeof S.energy.battery_soc === 'number' ? fmt(100 * S.energy.battery_soc, 0) : '–';
    $('energy-price_per_kwh').textContent = fmt(S.energy.price_per_kwh, 3);
  }

  function stationTile(name) {
    const t = el('div', 'station');
    t.setAttribute('data-station', name);
    t.append(el('div', 'name', name), el('div', 'state'));
    const bar = el('div', 'bar');
    bar.append(el('div'));
    t.append(bar, el('div', 'facts buffer'), el('div', 'facts cond'));
    return t;
  }

  function drawStations() {
    const box = $('stations');
    if (S.stations.size === 0) return;
    const empty = box.querySelector('.empty');
    if (empty) empty.remove();
    const names = [...S.stations.keys()];
    for (const name of names) {
      const s = S.stations.get(name);
      let t = [...box.children].find(c => c.getAttribute('data-station') === name);
      if (!t) { t = stationTile(name); box.append(t); }
      t.setAttribute('data-state', s.state);
      t.querySelector('.state').textContent = s.state;
      const cap = typeof s.buffer_cap === 'number' && s.buffer_cap > 0 ? s.buffer_cap : null;
      const level = typeof s.buffer_level === 'number' ? s.buffer_level : 0;
      const scale = cap || Math.max(10, level);
      t.querySelector('.bar > div').style.width = Math.min(100, 100 * level / scale) + '%';
      t.querySelector('.buffer').textContent = 'buffer ' + fmt(s.buffer_level, 0) + (cap ? ' / ' + cap : '');
      t.querySelector('.cond').textContent = 'speed ' + fmt(s.speed) + ' · vib ' + fmt(s.vibration_rms_mm_s) +
        ' mm/s · ' + fmt(s.temp_c, 1) + ' °C';
      t.title = name + ' (' + s.cell + ')';
    }
  }

  function drawRobots() {
    const box = $('robots');
    box.textContent = '';
    for (const r of S.robots.values()) {
      const busy = r.busy > 0;
      const chip = el('span', 'robot', r.name + ' · ' + (busy ? 'busy' : 'idle') + ' · node ' + fmt(r.node, 0) +
                      ' · queue ' + fmt(r.tasks_queued, 0) + ' · ' + fmt(100 * (r.utilisation || 0), 0) + '%');
      chip.setAttribute('data-robot', r.name);
      chip.setAttribute('data-busy', String(busy));
      box.append(chip);
    }
  }

  function drawFeed() {
    const list = $('feed');
    list.textContent = '';
    for (let i = S.feed.length - 1; i >= 0; i--) {
      const f = S.feed[i];
      const li = el('li');
      li.setAttribute('data-class', f.class);
      li.setAttribute('data-severity', f.severity || '');
      const label = f.class === 'alm' ? (f.active ? f.severity : 'clear') : f.class;
      li.append(el('span', 'cls', label), el('span', 'muted', ' ' + simText(f.t_ns) + ' '),
                el('b', null, f.code + ' '), el('span', null, f.text + ' '), el('span', 'muted', f.source));
      list.append(li);
    }
  }

  function fillTable(id, rows, key, cells, attrs) {
    const body = $(id).tBodies[0];
    body.textContent = '';
    for (const r of rows) {
      const tr = el('tr');
      tr.setAttribute('data-key', key(r));
      if (attrs) attrs(tr, r);
      for (const c of cells(r)) {
        if (c instanceof Node) { const td = el('td'); td.append(c); tr.append(td); }
        else tr.append(typeof c === 'number' ? el('td', 'num', fmt(c)) : el('td', null, String(c)));
      }
      body.append(tr);
    }
  }

  function drawTables() {
    fillTable('agents', [...S.agents.values()], a => a.name,
              a => [el('span', 'dot'), a.name, a.kind, a.cell, a.alive ? '' : a.reason],
              (tr, a) => { tr.setAttribute('data-agent', a.name); tr.setAttribute('data-alive', String(a.alive)); });
    fillTable('rates', Object.keys(S.rates).map(k => Object.assign({ cls: k }, S.rates[k])), r => r.cls,
              r => [r.cls, String(r.msgs), r.per_s, String(r.gaps)]);
    fillTable('parts', [...S.parts.values()], p => p.name, p => [p.name, p.warehouse, p.bin, p.on_order]);
    const generic = [...S.generic.values()].sort((a, b) => a.topic < b.topic ? -1 : 1);
    fillTable('generic', generic, g => g.topic, g => {
      const span = el('span');
      for (const m of g.metrics) {
        const s = el('span', 'metric', m.name + ' = ' + fmt(m.value) + (m.unit ? ' ' + m.unit : ''));
        s.setAttribute('data-metric', m.name);
        span.append(s);
      }
      return [g.topic, g.source, asOf(g.t_ns), span];
    }, (tr, g) => {
      tr.setAttribute('data-topic', g.topic);
      // A value from an agent known to be dead is its last word, greyed out.
      const a = S.agents.get(g.source);
      tr.setAttribute('data-alive', String(!a || a.alive));
    });
  }

  // ------------------------------------------------------------ energy chart

  let chart = null;
  function drawChart() {
    if (typeof Chart === 'undefined') { $('chart-missing').hidden = false; return; }
    const pts = S.points;
    const ds = (i, scale) => pts.map(p => ({ x: p[0], y: scale && p[i] !== null ? p[i] * scale : p[i] }));
    if (!chart) {
      chart = new Chart($('energy-chart'), {
        type: 'line',
        data: { datasets: [
          { label: 'grid kW', yAxisID: 'kw', borderColor: '#d83a3a', data: [] },
          { label: 'solar kW', yAxisID: 'kw', borderColor: '#e8a317', data: [] },
          { label: 'battery SoC %', yAxisID: 'pct', borderColor: '#2e9e44', data: [] },
          { label: 'price /kWh', yAxisID: 'price', borderColor: '#2f6fd6', borderDash: [4, 3], data: [] },
        ] },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
          elements: { point: { radius: 0 }, line: { borderWidth: 2 } },
          scales: {
            x: { type: 'linear', title: { display: true, text: 'sim time, h' } },
            kw: { position: 'left', title: { display: true, text: 'kW' } },
            pct: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false } },
            price: { position: 'right', grid: { drawOnChartArea: false } },
          },
        },
      });
    }
    chart.data.datasets[0].data = ds(1);
    chart.data.datasets[1].data = ds(2);
    chart.data.datasets[2].data = ds(3, 100);
    chart.data.datasets[3].data = ds(4);
    chart.update('none');
  }

  function draw() {
    drawHeader();
    drawKpis();
    drawStations();
    drawRobots();
    drawFeed();
    drawTables();
    try { drawChart(); } catch (e) { $('chart-missing').hidden = false; }
  }

  // ------------------------------------------------------------ the stream

  // ?events=N stops listening after N updates: a headless browser that
  // renders the page (a screenshot, a DOM dump) waits for open connections,
  // so it needs the stream to end.
  const limit = parseInt(new URLSearchParams(location.search).get('events') || '0', 10);
  let seen = 0;
  const conn = $('conn');
  const es = new EventSource('/events');
  // "live" only while data keeps coming: after STALE_MS without a change the
  // header says how old the data is, and that the plant stopped when the
  // twin (the plant) is no longer alive, so a last state is never taken for
  // a live one.
  const STALE_MS = 5000;
  let lastChange = Date.now(), lastVersion = -1;
  function showFreshness() {
    if (conn.getAttribute('data-state') === 'lost' || conn.getAttribute('data-state') === 'paused') return;
    const ageS = Math.round((Date.now() - lastChange) / 1000);
    const plant = [...S.agents.values()].find(a => a.kind === 'twin');
    if (plant && !plant.alive) {
      conn.setAttribute('data-state', 'stopped');
      conn.textContent = 'plant stopped · data ' + ageS + ' s old';
    } else if (Date.now() - lastChange > STALE_MS) {
      conn.setAttribute('data-state', 'stale');
      conn.textContent = 'no new data for ' + ageS + ' s';
    } else {
      conn.setAttribute('data-state', 'live');
      conn.textContent = 'live';
    }
  }
  setInterval(showFreshness, 1000);
  es.addEventListener('state', ev => {
    let d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    merge(d);
    draw();
    if (S.version !== lastVersion) { lastVersion = S.version; lastChange = Date.now(); }
    conn.setAttribute('data-state', 'live');
    showFreshness();
    if (limit > 0 && ++seen >= limit) {
      es.close();
      conn.setAttribute('data-state', 'paused');
      conn.textContent = 'paused after ' + seen + ' updates';
    }
  });
  es.onerror = () => { conn.setAttribute('data-state', 'lost'); conn.textContent = 'reconnecting…'; };
})();
