/* eventmart dashboard: reads /stats/* (with the read key when one is needed) and draws the
   answers with Apache ECharts. Every chart has its numbers in a table and a CSV link.
   Once every chart is drawn, window.__eventmartDrawn holds performance.now() of the first
   complete draw and <body data-draws> counts complete draws (benchmark.py and the browser
   tests wait for them). See docs/dashboard.md. */
"use strict";

(() => {
  // ---- what the page draws -------------------------------------------------------------
  // The daily chart's lines. Each entry is one line read from one /stats endpoint; entries
  // with the same endpoint and params share one request. A rolling-window line is one more
  // entry, e.g. { name: "Weekly active users", endpoint: "active-users",
  //               params: { window: 7 }, field: "active_users", axis: "users" }.
  const ACTIVITY_SERIES = [
    { name: "Active users", endpoint: "dau", params: {}, field: "active_users", axis: "users" },
    {
      name: "Weekly active users", endpoint: "active-users", params: { window: 7 },
      field: "active_users", axis: "users",
    },
    {
      name: "Monthly active users (30 days)", endpoint: "active-users", params: { window: 30 },
      field: "active_users", axis: "users",
    },
    { name: "Events", endpoint: "dau", params: {}, field: "events", axis: "events" },
  ];
  const ACTIVITY_AXES = {
    users: { name: "Users", position: "left" },
    events: { name: "Events", position: "right" },
  };
  // Every named field of the range form (#range-form) is sent to every /stats request; a
  // time-zone selector is one more <select name="tz"> there. `from`/`to` are kept apart
  // because the API picks them when they are left out (its default range).
  const RANGE_FIELDS = ["from", "to"];

  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]; // Okabe-Ito
  const LINE_TYPES = ["solid", "dashed", "dotted"];
  // viridis: perceptually uniform and readable with every common colour-vision deficiency
  const VIRIDIS = [
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
  ];
  const KEY_STORAGE = "eventmart.readKey";
  const number = new Intl.NumberFormat("en-US");

  const $ = (id) => document.getElementById(id);
  const el = {
    badge: $("freshness"), live: $("freshness-live"), error: $("error"),
    keyPanel: $("key-panel"), keyForm: $("key-form"), keyInput: $("key-input"),
    keyError: $("key-error"), keyActions: $("key-actions"), content: $("content"),
    rangeForm: $("range-form"), from: $("range-from"), to: $("range-to"),
    tz: $("range-tz"), tzField: $("tz-field"),
    topLimit: $("top-limit"), period: $("retention-period"), periods: $("retention-periods"),
  };

  const state = {
    config: null,
    key: sessionStorage.getItem(KEY_STORAGE),
    range: {}, // from/to the user chose; empty: the API's default range
    defaultTo: null, // the last day of the API's default range (the latest day with data)
    drawnRefresh: undefined, // meta.refreshed_at of what is drawn
    meta: null, // the newest meta seen, for the freshness badge
    metaAt: 0, // Date.now() when it arrived
    clockOffsetMs: 0, // server clock - this browser's clock
    wasStale: null,
    seq: 0,
    draws: 0,
    polling: false,
    charts: {},
  };

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // ---- reading the API -----------------------------------------------------------------
  function statsUrl(endpoint, params) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== "" && value !== null && value !== undefined) query.set(name, value);
    }
    const text = query.toString();
    return `stats/${endpoint}${text ? `?${text}` : ""}`;
  }

  function authHeaders() {
    return state.key ? { Authorization: `Bearer ${state.key}` } : {};
  }

  function describe(detail) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((item) => `${(item.loc || []).slice(-1)[0] ?? "request"}: ${item.msg}`)
        .join("; ");
    }
    return JSON.stringify(detail);
  }

  async function request(url, accept) {
    let response;
    try {
      response = await fetch(url, { headers: { Accept: accept, ...authHeaders() } });
    } catch (error) {
      throw new ApiError(0, `the API could not be reached (${error.message})`);
    }
    if (!response.ok) {
      let detail = response.statusText;
      try {
        detail = describe((await response.json()).detail);
      } catch (_) { /* not JSON: keep the status text */ }
      throw new ApiError(response.status, detail);
    }
    return response;
  }

  async function getJson(url) {
    const response = await request(url, "application/json");
    const body = await response.json();
    noteMeta(body.meta, response);
    return body;
  }

  // ---- freshness badge -----------------------------------------------------------------
  function noteMeta(meta, response) {
    if (meta.loaded_through && meta.lag_seconds !== null) {
      // lag_seconds = server now - loaded_through: gives the server clock to the millisecond
      state.clockOffsetMs = Date.parse(meta.loaded_through) + meta.lag_seconds * 1000 - Date.now();
    } else if (response.headers.get("date")) {
      state.clockOffsetMs = Date.parse(response.headers.get("date")) - Date.now();
    }
    if (!state.meta || (meta.refreshed_at || "") >= (state.meta.refreshed_at || "")) {
      state.meta = meta;
      state.metaAt = Date.now();
    }
    updateBadge();
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  }

  function utcTime(iso) {
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  }

  function updateBadge() {
    const meta = state.meta;
    if (!meta || !state.config) return;
    let stale;
    let text;
    if (!meta.refreshed_at) {
      stale = true;
      text = "Not refreshed yet: the marts have not been built";
    } else {
      const age = (Date.now() + state.clockOffsetMs - Date.parse(meta.refreshed_at)) / 1000;
      stale = age > state.config.stale_seconds;
      const lag = meta.lag_seconds === null
        ? "none loaded"
        : duration(meta.lag_seconds + (Date.now() - state.metaAt) / 1000);
      text = `${stale ? "Stale" : "Fresh"}: refreshed ${duration(age)} ago`
        + ` (${utcTime(meta.refreshed_at)}) · lag ${lag}`;
    }
    el.badge.dataset.state = stale ? "stale" : "fresh";
    el.badge.textContent = text;
    el.badge.title = `Stale once the last refresh is over ${duration(state.config.stale_seconds)}`
      + " old (EVENTMART_DASHBOARD_STALE_SECONDS). Lag: time since the newest event the marts"
      + " include was loaded.";
    if (stale !== state.wasStale) {
      el.live.textContent = stale ? `Data is stale. ${text}` : "Data is fresh.";
      state.wasStale = stale;
    }
  }

  // ---- errors and the key --------------------------------------------------------------
  function showError(error) {
    if (error.status === 401 || error.status === 403) {
      forgetKey();
      askForKey(error.status === 401
        ? "This service needs a read key to show its numbers."
        : `That read key was refused (HTTP 403: ${error.message}). Check the key and try again.`);
      return;
    }
    const what = error.status ? `HTTP ${error.status}: ${error.message}` : error.message;
    const retry = error.status === 503 || error.status === 0 || error.status === 429
      ? " The page tries again by itself." : "";
    el.error.textContent = `Could not read the numbers (${what}).${retry}`;
    el.error.hidden = false;
  }

  function clearError() {
    el.error.hidden = true;
    el.error.textContent = "";
  }

  function askForKey(message) {
    el.content.hidden = true;
    if (!state.meta) el.badge.textContent = "Waiting for a read key";
    el.keyPanel.hidden = false;
    el.keyError.hidden = !message;
    el.keyError.textContent = message || "";
    el.keyInput.value = "";
    el.keyInput.focus();
  }

  function forgetKey() {
    state.key = null;
    sessionStorage.removeItem(KEY_STORAGE);
  }

  function useKey(key) {
    state.key = key;
    sessionStorage.setItem(KEY_STORAGE, key);
    el.keyPanel.hidden = true;
    el.keyError.hidden = true;
    refresh();
  }

  // ---- tables and downloads ------------------------------------------------------------
  function cell(tag, value) {
    const node = document.createElement(tag);
    if (value && typeof value === "object") {
      node.textContent = value.text;
      if (value.note !== undefined) {
        const note = document.createElement("small");
        note.textContent = ` (${value.note})`;
        node.append(note);
      }
      for (const [name, data] of Object.entries(value.data || {})) node.dataset[name] = data;
    } else if (typeof value === "number") {
      node.textContent = number.format(value);
      node.dataset.value = value;
    } else {
      node.textContent = value === null || value === undefined ? "–" : value;
    }
    return node;
  }

  function fillTable(table, headers, rows) {
    const head = document.createElement("tr");
    for (const name of headers) {
      const th = cell("th", name);
      th.scope = "col";
      head.append(th);
    }
    table.tHead.replaceChildren(head);
    const body = table.tBodies[0];
    body.replaceChildren(...rows.map((values) => {
      const tr = document.createElement("tr");
      values.forEach((value, i) => {
        const td = cell(i === 0 ? "th" : "td", value);
        if (i === 0) td.scope = "row";
        tr.append(td);
      });
      return tr;
    }));
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell("td", "No data in this range");
      td.colSpan = headers.length;
      tr.append(td);
      body.append(tr);
    }
  }

  function csvLinks(container, links) {
    container.replaceChildren(...links.map(({ label, url, file }) => {
      const a = document.createElement("a");
      a.href = `${url}${url.includes("?") ? "&" : "?"}format=csv`;
      a.download = file;
      a.textContent = label;
      // A link cannot send the key: with one, fetch the CSV with it and save the answer.
      a.addEventListener("click", (event) => {
        if (!state.key) return;
        event.preventDefault();
        download(a.href, file).catch(showError);
      });
      return a;
    }));
  }

  async function download(url, file) {
    const blob = await (await request(url, "text/csv")).blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = file;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  function csvFile(endpoint, meta, extra) {
    return `eventmart-${endpoint}${extra ? `-${extra}` : ""}-${meta.from}-to-${meta.to}.csv`;
  }

  // ---- charts --------------------------------------------------------------------------
  function chart(id) {
    if (!state.charts[id]) {
      const node = $(id);
      state.charts[id] = echarts.init(node, null, { renderer: "canvas" });
      new ResizeObserver(() => state.charts[id].resize()).observe(node);
    }
    return state.charts[id];
  }

  function base(empty) {
    return {
      animation: false,
      aria: { enabled: true },
      textStyle: { fontFamily: "inherit" },
      title: empty
        ? { text: "No events in this range", left: "center", top: "middle",
          textStyle: { color: "#59636e", fontSize: 14, fontWeight: "normal" } }
        : { show: false },
    };
  }

  // Resolves once `instance` has rendered the option set after this call.
  function rendered(instance) {
    return new Promise((resolve) => {
      instance.off("finished");
      instance.on("finished", () => {
        instance.off("finished");
        resolve();
      });
    });
  }

  function setHeight(id, pixels) {
    const node = $(id);
    if (node.style.height !== `${pixels}px`) node.style.height = `${pixels}px`;
  }

  function drawActivity(answers, urls) {
    const dates = answers.get(urls[0]).data.map((row) => row.date);
    const columns = ACTIVITY_SERIES.map((series, i) => {
      const byDate = new Map(answers.get(urls[i]).data.map((row) => [row.date, row[series.field]]));
      return dates.map((day) => (byDate.has(day) ? byDate.get(day) : null));
    });
    const axes = [...new Set(ACTIVITY_SERIES.map((series) => series.axis))];
    const instance = chart("activity-chart");
    const done = rendered(instance);
    instance.setOption({
      ...base(false),
      color: PALETTE,
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 8, top: 48, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: dates, boundaryGap: false },
      yAxis: axes.map((axis) => ({
        type: "value", minInterval: 1, ...ACTIVITY_AXES[axis],
        splitLine: { show: axis === axes[0] },
      })),
      series: ACTIVITY_SERIES.map((series, i) => ({
        name: series.name,
        type: "line",
        yAxisIndex: axes.indexOf(series.axis),
        data: columns[i],
        showSymbol: dates.length <= 62,
        lineStyle: { width: 2, type: LINE_TYPES[i % LINE_TYPES.length] },
      })),
    }, { notMerge: true });
    fillTable(
      $("activity-table"),
      ["Date", ...ACTIVITY_SERIES.map((series) => series.name)],
      dates.map((day, row) => [day, ...columns.map((column) => column[row])]),
    );
    const unique = [...new Set(urls)];
    const meta = answers.get(urls[0]).meta;
    csvLinks($("activity-csv"), unique.map((url) => {
      const endpoint = ACTIVITY_SERIES[urls.indexOf(url)].endpoint;
      return {
        label: unique.length > 1 ? `CSV (${endpoint})` : "CSV",
        url: resolved(url, meta),
        file: csvFile(endpoint, meta),
      };
    }));
    return done;
  }

  function drawTopEvents(answer, url) {
    const rows = answer.data;
    setHeight("top-chart", Math.max(260, rows.length * 26 + 70));
    const instance = chart("top-chart");
    const done = rendered(instance);
    instance.setOption({
      ...base(!rows.length),
      color: PALETTE,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 48, top: 24, bottom: 8, containLabel: true },
      xAxis: { type: "value", name: "Events", minInterval: 1 },
      yAxis: {
        type: "category", inverse: true, data: rows.map((row) => row.event_type),
        axisLabel: { width: 140, overflow: "truncate" },
      },
      series: [{
        name: "Events", type: "bar", data: rows.map((row) => row.events),
        label: { show: true, position: "right", formatter: (p) => number.format(p.value) },
      }],
    }, { notMerge: true });
    fillTable($("top-table"), ["Event", "Events", "Users"],
      rows.map((row) => [row.event_type, row.events, row.users]));
    csvLinks($("top-csv"), [{
      label: "CSV", url: resolved(url, answer.meta), file: csvFile("top-events", answer.meta),
    }]);
    return done;
  }

  function percent(rate, digits) {
    return `${(rate * 100).toFixed(digits)}%`;
  }

  function drawRetention(answer, url) {
    const { period, periods } = answer.meta;
    const rows = answer.data;
    const offsets = Array.from({ length: periods + 1 }, (_, k) => `+${k}`);
    const cells = [];
    rows.forEach((row, y) => row.rate.forEach((rate, x) => {
      if (rate === null) return;
      cells.push({ value: [x, y, rate], label: { color: rate > 0.6 ? "#000" : "#fff" } });
    }));
    setHeight("retention-chart", Math.max(220, rows.length * 24 + 110));
    const instance = chart("retention-chart");
    const done = rendered(instance);
    const unit = period === "week" ? "week" : "day";
    instance.setOption({
      ...base(!rows.length),
      tooltip: {
        formatter: (p) => {
          const row = rows[p.value[1]];
          const k = p.value[0];
          return `Cohort ${row.cohort} (${number.format(row.size)} users)<br>`
            + `${unit} +${k}: ${number.format(row.retained[k])} users, ${percent(row.rate[k], 2)}`;
        },
      },
      grid: { left: 8, right: 8, top: 36, bottom: 56, containLabel: true },
      xAxis: {
        type: "category", data: offsets, position: "top", name: `${unit}s later`,
        nameLocation: "middle", nameGap: 22, splitArea: { show: true },
      },
      yAxis: { type: "category", data: rows.map((row) => row.cohort), inverse: true },
      visualMap: {
        type: "continuous", min: 0, max: 1, orient: "horizontal", left: "center", bottom: 0,
        itemHeight: 160, text: ["100%", "0%"], inRange: { color: VIRIDIS }, calculable: false,
      },
      series: [{
        name: "Retention", type: "heatmap", data: cells,
        label: { show: periods <= 16, formatter: (p) => percent(p.value[2], 0), fontSize: 11 },
        itemStyle: { borderColor: "#fff", borderWidth: 1 },
      }],
    }, { notMerge: true });
    fillTable(
      $("retention-table"),
      ["Cohort", "Users", ...offsets],
      rows.map((row) => [
        row.cohort,
        row.size,
        ...row.rate.map((rate, k) => (rate === null
          ? null
          : { text: percent(rate, 2), note: number.format(row.retained[k]),
            data: { rate, retained: row.retained[k] } })),
      ]),
    );
    csvLinks($("retention-csv"), [{
      label: "CSV", url: resolved(url, answer.meta),
      file: csvFile("retention", answer.meta, `${period}-${periods}`),
    }]);
    return done;
  }

  // The URL of an answer with the range it resolved to, so a CSV holds what is drawn.
  function resolved(url, meta) {
    const [path, query] = url.split("?");
    const params = new URLSearchParams(query || "");
    params.set("from", meta.from);
    params.set("to", meta.to);
    return `${path}?${params}`;
  }

  // ---- loading and redrawing -----------------------------------------------------------
  function commonParams() {
    const params = {};
    for (const [name, value] of new FormData(el.rangeForm)) {
      if (!RANGE_FIELDS.includes(name) && value) params[name] = value;
    }
    return { ...params, ...state.range };
  }

  async function loadAll(attempt = 0) {
    const seq = ++state.seq;
    const common = commonParams();
    const requests = new Map();
    const want = (endpoint, params) => {
      const url = statsUrl(endpoint, { ...common, ...params });
      if (!requests.has(url)) requests.set(url, getJson(url));
      return url;
    };
    const activityUrls = ACTIVITY_SERIES.map((series) => want(series.endpoint, series.params));
    const topUrl = want("top-events", { limit: el.topLimit.value });
    const retentionUrl = want("retention", { period: el.period.value, periods: el.periods.value });
    const urls = [...requests.keys()];
    const bodies = await Promise.all(requests.values());
    if (seq !== state.seq) return; // a newer load has started
    const answers = new Map(urls.map((url, i) => [url, bodies[i]]));
    const refreshes = new Set(bodies.map((body) => body.meta.refreshed_at));
    if (refreshes.size > 1 && attempt < 2) {
      await loadAll(attempt + 1); // a refresh ended between the requests: read again
      return;
    }
    clearError();
    el.content.hidden = false;
    const meta = answers.get(activityUrls[0]).meta;
    showZoneName(meta.tz || el.tz.value);
    if (!state.range.from && !state.range.to) state.defaultTo = meta.to;
    for (const input of [el.from, el.to]) {
      if (document.activeElement !== input) input.value = meta[input.name];
    }
    await Promise.all([
      drawActivity(answers, activityUrls),
      drawTopEvents(answers.get(topUrl), topUrl),
      drawRetention(answers.get(retentionUrl), retentionUrl),
    ]);
    state.drawnRefresh = meta.refreshed_at;
    state.draws += 1;
    document.body.dataset.draws = String(state.draws);
    document.body.dataset.refreshedAt = meta.refreshed_at || "";
    if (window.__eventmartDrawn === undefined) window.__eventmartDrawn = performance.now();
  }

  async function refresh() {
    try {
      await loadAll();
      startPolling();
    } catch (error) {
      showError(error);
    }
  }

  function startPolling() {
    if (state.polling) return;
    state.polling = true;
    const tick = async () => {
      try {
        if (state.key || !state.config.keys_required) {
          const body = await getJson(statsUrl("dau", commonParams()));
          if (body.meta.refreshed_at !== state.drawnRefresh) await loadAll();
          else clearError();
        }
      } catch (error) {
        showError(error);
      }
      setTimeout(tick, state.config.poll_seconds * 1000);
    };
    setTimeout(tick, state.config.poll_seconds * 1000);
    setInterval(updateBadge, 1000);
  }

  // ---- controls ------------------------------------------------------------------------
  function shiftDays(iso, days) {
    const day = new Date(`${iso}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() + days);
    return day.toISOString().slice(0, 10);
  }

  function wire() {
    el.rangeForm.addEventListener("submit", (event) => {
      event.preventDefault();
      state.range = { from: el.from.value, to: el.to.value };
      refresh();
    });
    el.rangeForm.querySelectorAll("button[data-days]").forEach((button) => {
      button.addEventListener("click", () => {
        const to = state.defaultTo || el.to.value;
        state.range = { from: shiftDays(to, 1 - Number(button.dataset.days)), to };
        refresh();
      });
    });
    $("range-default").addEventListener("click", () => {
      state.range = {};
      el.from.value = "";
      el.to.value = "";
      refresh();
    });
    for (const control of [el.tz, el.topLimit, el.period, el.periods]) {
      control.addEventListener("change", refresh);
    }
    el.keyForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = el.keyInput.value.trim();
      if (key) useKey(key);
    });
    $("forget-key").addEventListener("click", () => {
      forgetKey();
      askForKey("");
    });
  }

  // The zone selector lists the configured reporting zones (the first is the API's default);
  // with one zone there is nothing to choose and it stays hidden.
  function showZones(zones) {
    el.tz.replaceChildren(...zones.map((zone) => new Option(zone, zone)));
    el.tzField.hidden = zones.length < 2;
    showZoneName(zones[0]);
  }

  function showZoneName(zone) {
    for (const node of document.querySelectorAll(".tz-name")) node.textContent = zone;
  }

  async function start() {
    wire();
    try {
      const response = await fetch("dashboard/config.json");
      if (!response.ok) throw new ApiError(response.status, response.statusText);
      state.config = await response.json();
    } catch (error) {
      showError(error);
      return;
    }
    showZones(state.config.timezones);
    el.keyActions.hidden = !state.config.keys_required;
    if (state.config.keys_required && !state.key) {
      askForKey("");
      return;
    }
    refresh();
  }

  start();
})();
