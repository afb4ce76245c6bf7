// The alliance's trace viewer: a search page and a trace page over Jaeger's HTTP query API.
// No framework and no build step: every view is a full page load, so every address is
// shareable and the browser's back button just works; the page reads its state from the URL.
"use strict";

(() => {
  const main = document.getElementById("main");
  const statusLine = document.getElementById("status");

  // --- Addresses --------------------------------------------------------------------------

  // Everything is relative to <base>, which Jaeger rewrites when it runs under a base path.
  const base = new URL(document.baseURI);

  function appUrl(path, params) {
    const url = new URL(path, base);
    if (params) {
      for (const [key, value] of Object.entries(params)) {
        if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
      }
    }
    return url.pathname + url.search;
  }

  function traceHref(traceId, spanId) {
    return appUrl(`trace/${encodeURIComponent(traceId)}`, { span: spanId });
  }

  // The route is the path below the base: "", "search" or "trace/<id>".
  function route() {
    const path = location.pathname.startsWith(base.pathname)
      ? location.pathname.slice(base.pathname.length)
      : location.pathname.replace(/^\//, "");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    return { page: parts[0] || "search", id: parts[1] || "" };
  }

  // --- The query API ----------------------------------------------------------------------

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, params) {
    const url = new URL(`api/${path}`, base);
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== "") url.searchParams.set(key, value);
    }
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" } });
    } catch (error) {
      throw new ApiError(`Jaeger did not answer (${error.message}).`, 0);
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      // A proxy's error page is not JSON; the status says enough.
    }
    if (!response.ok) {
      const reasons = (body && body.errors ? body.errors : []).map((e) => e.msg).filter(Boolean);
      throw new ApiError(reasons.join("; ") || `Jaeger answered ${response.status}.`, response.status);
    }
    return body ? body.data : null;
  }

  // --- DOM helpers ------------------------------------------------------------------------

  // h("a", {href: "x", class: "y"}, "text", child): attributes starting with "on" are listeners.
  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else if (name === "style") element.style.cssText = value;
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      element.append(child instanceof Node ? child : String(child));
    }
    return element;
  }

  function announce(message) {
    statusLine.textContent = message;
  }

  function setState(state) {
    document.body.dataset.state = state;
  }

  function notice(kind, title, detail) {
    return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : null },
      h("strong", {}, title), detail ? h("p", {}, detail) : null);
  }

  // --- Formatting -------------------------------------------------------------------------

  // Jaeger's times and durations are microseconds.
  function formatDuration(us) {
    if (us < 1) return "0 µs";
    if (us < 1000) return `${Math.round(us)} µs`;
    if (us < 1_000_000) return `${trim(us / 1000)} ms`;
    if (us < 60_000_000) return `${trim(us / 1_000_000)} s`;
    const minutes = Math.floor(us / 60_000_000);
    const seconds = Math.round((us % 60_000_000) / 1_000_000);
    return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
  }

  // Three significant digits at most, and no trailing zeros ("1 ms", "2.44 ms", "118 ms").
  function trim(value) {
    return String(Number(value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)));
  }

  const pad = (n, width = 2) => String(n).padStart(width, "0");

  function formatTime(us) {
    const d = new Date(us / 1000);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function formatAgo(us) {
    const seconds = Math.round((Date.now() - us / 1000) / 1000);
    if (seconds < 5) return "just now";
    if (seconds < 60) return `${seconds} s ago`;
    if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
    return `${Math.round(seconds / 86400)} d ago`;
  }

  function timeElement(us) {
    return h("time", { datetime: new Date(us / 1000).toISOString(), title: formatAgo(us) },
      formatTime(us));
  }

  function shortId(id) {
    return id.length > 12 ? id.slice(0, 12) : id;
  }

  function tagValue(tag) {
    return typeof tag.value === "string" ? tag.value : JSON.stringify(tag.value);
  }

  // --- Service colours --------------------------------------------------------------------

  // Distinct on white and for common colour blindness; the service name is always shown too.
  const PALETTE = [
    "#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626",
    "#4f46e5", "#ca8a04", "#0d9488", "#c026d3", "#ea580c", "#475569", "#16a34a", "#9333ea",
  ];
  let knownServices = [];

  // By position in Jaeger's sorted service list, so colours agree between pages.
  function serviceColour(service) {
    let index = knownServices.indexOf(service);
    if (index < 0) {
      index = 0;
      for (const char of service) index = (index * 31 + char.charCodeAt(0)) >>> 0;
    }
    return PALETTE[index % PALETTE.length];
  }

  async function loadServices() {
    knownServices = ((await api("services")) || []).slice().sort();
    return knownServices;
  }

  function serviceChip(service, count) {
    return h("span", { class: "chip", style: `--service: ${serviceColour(service)}`, "data-service": service },
      h("span", { class: "chip-name" }, service),
      count === undefined ? null : [" ", h("span", { class: "chip-count", title: `${count} span${count === 1 ? "" : "s"}` }, count)]);
  }

  // --- The trace model --------------------------------------------------------------------

  const isError = (tags) => tags.some((t) =>
    (t.key === "error" && (t.value === true || t.value === "true")) ||
    (t.key === "otel.status_code" && t.value === "ERROR"));

  // Spans in display order (depth first, siblings by start), with depth, parent and links.
  function traceModel(raw) {
    const services = {};
    for (const [id, process] of Object.entries(raw.processes || {})) services[id] = process;
    const spans = raw.spans.map((span) => {
      const tags = span.tags || [];
      const kindTag = tags.find((t) => t.key === "span.kind");
      return {
        raw: span,
        id: span.spanID,
        name: span.operationName,
        service: (services[span.processID] || {}).serviceName || "unknown",
        process: services[span.processID] || { serviceName: "unknown", tags: [] },
        start: span.startTime,
        duration: span.duration,
        kind: kindTag ? String(kindTag.value) : "",
        error: isError(tags),
        tags,
        children: [],
        parent: null,
        parentId: "",
        depth: 0,
      };
    });
    const byId = new Map(spans.map((s) => [s.id, s]));
    const roots = [];
    for (const span of spans) {
      const references = span.raw.references || [];
      const parentRef = references.find((r) => r.refType === "CHILD_OF" && r.traceID === raw.traceID);
      span.parentId = parentRef ? parentRef.spanID : "";
      // Links to other spans (FOLLOWS_FROM, or any reference into another trace).
      span.links = references.filter((r) => r !== parentRef);
      span.parent = parentRef ? byId.get(parentRef.spanID) || null : null;
      if (span.parent) span.parent.children.push(span);
      else roots.push(span);
    }
    const byStart = (a, b) => a.start - b.start || a.name.localeCompare(b.name);
    const ordered = [];
    const visit = (span, depth) => {
      span.depth = depth;
      ordered.push(span);
      span.children.sort(byStart).forEach((child) => visit(child, depth + 1));
    };
    roots.sort(byStart).forEach((root) => visit(root, 0));

    const start = Math.min(...spans.map((s) => s.start));
    const end = Math.max(...spans.map((s) => s.start + s.duration));
    const serviceCounts = new Map();
    for (const span of ordered) serviceCounts.set(span.service, (serviceCounts.get(span.service) || 0) + 1);
    // A root whose parent has not arrived (yet) is still the best name for the trace.
    const root = roots.find((r) => !r.parentId) || roots[0];
    return {
      id: raw.traceID,
      spans: ordered,
      root,
      start,
      duration: end - start,
      serviceCounts: [...serviceCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
      depth: ordered.reduce((deepest, s) => Math.max(deepest, s.depth + 1), 0),
      errors: ordered.filter((s) => s.error).length,
      links: ordered.flatMap((s) => s.links.map((link) => ({ from: s, link }))),
      warnings: raw.warnings || [],
    };
  }

  // --- Top bar ----------------------------------------------------------------------------

  // A bare id, a pasted traceparent header or a pasted trace address all open the trace.
  function traceIdFrom(text) {
    const value = text.trim();
    const traceparent = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/i.exec(value);
    if (traceparent) return traceparent[1].toLowerCase();
    const address = /trace\/([0-9a-f]{1,32})/i.exec(value);
    if (address) return address[1].toLowerCase();
    return /^[0-9a-f]{1,32}$/i.test(value) ? value.toLowerCase() : null;
  }

  function wireTopBar() {
    const form = document.getElementById("open-trace");
    const input = document.getElementById("open-trace-id");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const id = traceIdFrom(input.value);
      if (!id) {
        input.setCustomValidity("Enter a trace id: up to 32 hexadecimal digits.");
        input.reportValidity();
        return;
      }
      location.assign(traceHref(id));
    });
    input.addEventListener("input", () => input.setCustomValidity(""));
    const version = window.JAEGER_VERSION && window.JAEGER_VERSION.gitVersion;
    if (version) document.getElementById("jaeger-version").textContent = `Jaeger ${version}`;
  }

  // --- Search page ------------------------------------------------------------------------

  const LOOKBACKS = [
    ["5m", "Last 5 minutes", 5 * 60],
    ["15m", "Last 15 minutes", 15 * 60],
    ["1h", "Last hour", 3600],
    ["2h", "Last 2 hours", 2 * 3600],
    ["6h", "Last 6 hours", 6 * 3600],
    ["12h", "Last 12 hours", 12 * 3600],
    ["24h", "Last 24 hours", 24 * 3600],
    ["2d", "Last 2 days", 2 * 86400],
    ["7d", "Last 7 days", 7 * 86400],
  ];
  const SORTS = [
    ["recent", "Most recent", (a, b) => b.start - a.start],
    ["longest", "Longest first", (a, b) => b.duration - a.duration],
    ["shortest", "Shortest first", (a, b) => a.duration - b.duration],
    ["spans", "Most spans", (a, b) => b.spans.length - a.spans.length],
  ];
  const DEFAULT_LIMIT = "20";

  // "a=b c=\"d e\"" -> {a: "b", c: "d e"}; the logfmt Jaeger's own UI accepts.
  function parseTags(text) {
    const tags = {};
    const pattern = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
    let rest = text;
    for (const match of text.matchAll(pattern)) {
      const value = match[2].startsWith("\"") ? JSON.parse(match[2]) : match[2];
      tags[match[1]] = value;
      rest = rest.replace(match[0], "");
    }
    if (rest.trim()) throw new Error(`Tags must be key=value pairs; cannot read "${rest.trim()}".`);
    return tags;
  }

  function field(id, label, control, help) {
    return h("div", { class: "field" },
      h("label", { for: id }, label),
      control,
      help ? h("p", { class: "help", id: `${id}-help` }, help) : null);
  }

  function option(value, label, selected) {
    return h("option", { value, selected: selected || null }, label);
  }

  async function fillOperations(select, service, chosen) {
    select.replaceChildren(option("", "All operations", !chosen));
    if (!service) return;
    let operations = [];
    try {
      operations = (await api(`services/${encodeURIComponent(service)}/operations`)) || [];
    } catch {
      // A service with no spans yet has no operations; "All operations" is still right.
    }
    if (chosen && !operations.includes(chosen)) operations.push(chosen);
    for (const name of operations.sort()) select.append(option(name, name, name === chosen));
  }

  async function searchPage() {
    const params = new URLSearchParams(location.search);
    const query = {
      service: params.get("service") || "",
      operation: params.get("operation") || "",
      tags: params.get("tags") || "",
      lookback: params.get("lookback") || "1h",
      minDuration: params.get("minDuration") || "",
      maxDuration: params.get("maxDuration") || "",
      limit: params.get("limit") || DEFAULT_LIMIT,
      sort: params.get("sort") || "recent",
    };
    document.title = query.service ? `${query.service} · Alliance traces` : "Search · Alliance traces";
    document.getElementById("nav-search").setAttribute("aria-current", "page");

    const services = await loadServices().catch((error) => {
      main.replaceChildren(notice("error", "Cannot reach Jaeger's query API.", error.message));
      setState("error");
      return null;
    });
    if (!services) return;

    const serviceSelect = h("select", { id: "service", name: "service", required: true },
      option("", services.length ? "Choose a service" : "No services have sent spans yet", !query.service),
      services.map((s) => option(s, s, s === query.service)));
    const operationSelect = h("select", { id: "operation", name: "operation" });
    serviceSelect.addEventListener("change", () => fillOperations(operationSelect, serviceSelect.value, ""));
    const tagsInput = h("input", {
      id: "tags", name: "tags", type: "text", value: query.tags, spellcheck: "false",
      autocomplete: "off", placeholder: "alliance.offering_id=off-…", "aria-describedby": "tags-help",
    });
    const lookbackSelect = h("select", { id: "lookback", name: "lookback" },
      LOOKBACKS.map(([value, label]) => option(value, label, value === query.lookback)));
    const minInput = h("input", {
      id: "minDuration", name: "minDuration", type: "text", value: query.minDuration,
      placeholder: "e.g. 10ms", autocomplete: "off", "aria-describedby": "durations-help",
    });
    const maxInput = h("input", {
      id: "maxDuration", name: "maxDuration", type: "text", value: query.maxDuration,
      placeholder: "e.g. 2s", autocomplete: "off", "aria-describedby": "durations-help",
    });
    const limitInput = h("input", {
      id: "limit", name: "limit", type: "number", min: "1", max: "1500", value: query.limit,
    });

    const form = h("form", { class: "search-form", action: "search", method: "get", "aria-labelledby": "search-title" },
      h("h1", { id: "search-title" }, "Find traces"),
      field("service", "Service", serviceSelect),
      field("operation", "Operation", operationSelect),
      field("tags", "Tags", tagsInput,
        "Space-separated key=value pairs; quote values with spaces. Search by learner-safe ids such as alliance.offering_id, alliance.enrolment_id or alliance.credential_id."),
      field("lookback", "Lookback", lookbackSelect),
      h("fieldset", { class: "durations" },
        h("legend", {}, "Duration"),
        h("div", { class: "pair" },
          field("minDuration", "At least", minInput),
          field("maxDuration", "At most", maxInput)),
        h("p", { class: "help", id: "durations-help" }, "Units: us, ms, s, m, h.")),
      field("limit", "Limit results", limitInput),
      h("button", { type: "submit", class: "primary" }, "Find traces"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      try {
        parseTags(tagsInput.value);
      } catch (error) {
        tagsInput.setCustomValidity(error.message);
        tagsInput.reportValidity();
        return;
      }
      // Only what was filled in goes into the address, so shared links stay short.
      location.assign(appUrl("search", {
        service: serviceSelect.value,
        operation: operationSelect.value,
        tags: tagsInput.value.trim(),
        lookback: lookbackSelect.value,
        minDuration: minInput.value.trim(),
        maxDuration: maxInput.value.trim(),
        limit: limitInput.value === DEFAULT_LIMIT ? "" : limitInput.value,
        sort: query.sort === "recent" ? "" : query.sort,
      }));
    });
    tagsInput.addEventListener("input", () => tagsInput.setCustomValidity(""));

    const results = h("section", { class: "results", "aria-labelledby": "results-title" });
    main.replaceChildren(h("div", { class: "search-layout" },
      h("aside", { class: "search-panel" }, form), results));
    await fillOperations(operationSelect, query.service, query.operation);

    if (!query.service) {
      results.replaceChildren(h("h2", { id: "results-title", class: "visually-hidden" }, "Results"),
        notice("info", "Choose a service to search its traces.",
          "Or open a trace by its id in the bar above. Traces are kept in memory, so they last until Jaeger restarts."));
      setState("ready");
      return;
    }
    await runSearch(query, results);
  }

  async function runSearch(query, results) {
    results.replaceChildren(h("h2", { id: "results-title" }, "Searching…"));
    announce("Searching traces…");
    let traces;
    try {
      const tags = parseTags(query.tags);
      const seconds = (LOOKBACKS.find(([value]) => value === query.lookback) || LOOKBACKS[2])[2];
      const end = Date.now() * 1000;
      const data = await api("traces", {
        service: query.service,
        operation: query.operation,
        tags: Object.keys(tags).length ? JSON.stringify(tags) : "",
        // The trace search reads start and end (microseconds), not a lookback.
        start: String(end - seconds * 1_000_000),
        end: String(end),
        minDuration: query.minDuration,
        maxDuration: query.maxDuration,
        limit: query.limit,
      }).catch((error) => {
        // Jaeger answers 404 for a service that has sent no spans yet: no traces, not a fault.
        if (error.status === 404) return [];
        throw error;
      });
      traces = (data || []).filter((t) => t.spans && t.spans.length).map(traceModel);
    } catch (error) {
      results.replaceChildren(h("h2", { id: "results-title" }, "Search failed"),
        notice("error", "The search failed.", error.message));
      announce("The search failed.");
      setState("error");
      return;
    }
    renderResults(query, traces, results);
    setState("ready");
  }

  function renderResults(query, traces, results) {
    const sortSelect = h("select", { id: "sort", name: "sort" },
      SORTS.map(([value, label]) => option(value, label, value === query.sort)));
    const list = h("ol", { class: "trace-list" });
    const longest = Math.max(1, ...traces.map((t) => t.duration));
    const draw = () => {
      const sort = (SORTS.find(([value]) => value === sortSelect.value) || SORTS[0])[2];
      list.replaceChildren(...traces.slice().sort(sort).map((t) => traceCard(t, longest)));
    };
    sortSelect.addEventListener("change", () => {
      const url = new URL(location.href);
      if (sortSelect.value === "recent") url.searchParams.delete("sort");
      else url.searchParams.set("sort", sortSelect.value);
      history.replaceState(null, "", url);
      draw();
    });
    const count = `${traces.length} trace${traces.length === 1 ? "" : "s"}`;
    const header = h("div", { class: "results-header" },
      h("h2", { id: "results-title" }, count),
      h("div", { class: "sort" }, h("label", { for: "sort" }, "Sort"), sortSelect));
    if (!traces.length) {
      results.replaceChildren(header, notice("info", "No traces match.",
        "Widen the lookback, drop a tag or choose another service. Spans reach Jaeger a moment after the work is done."));
    } else {
      const capped = traces.length >= Number(query.limit);
      results.replaceChildren(header, ...(capped
        ? [h("p", { class: "help" }, `Showing the first ${query.limit}; raise the limit or narrow the search for more.`)]
        : []), list);
      draw();
    }
    announce(`${count} found.`);
  }

  function traceCard(trace, longest) {
    const root = trace.root;
    return h("li", { class: "trace-card", "data-trace-id": trace.id },
      h("div", { class: "card-head" },
        h("h3", { class: "card-title" },
          h("a", { href: traceHref(trace.id) },
            h("span", { class: "root-service", style: `--service: ${serviceColour(root.service)}` }, root.service),
            ": ", h("span", { class: "root-name" }, root.name))),
        trace.errors
          ? h("span", { class: "badge badge-error" }, `${trace.errors} error${trace.errors === 1 ? "" : "s"}`)
          : null,
        h("span", { class: "card-duration" }, formatDuration(trace.duration))),
      h("div", { class: "card-bar", "aria-hidden": "true" },
        h("span", { style: `width: ${Math.max(0.5, (trace.duration / longest) * 100)}%` })),
      h("div", { class: "card-body" },
        h("ul", { class: "chips", "aria-label": "Services and their span counts" },
          trace.serviceCounts.map(([service, count]) => h("li", {}, serviceChip(service, count)))),
        h("p", { class: "card-meta" },
          h("span", {}, `${trace.spans.length} span${trace.spans.length === 1 ? "" : "s"}`), " ",
          h("span", {}, timeElement(trace.start), " ", h("span", { class: "muted" }, `(${formatAgo(trace.start)})`)), " ",
          h("code", { class: "muted", title: trace.id }, shortId(trace.id)))));
  }

  // --- Trace page -------------------------------------------------------------------------

  async function tracePage(traceId) {
    document.title = `Trace ${shortId(traceId)} · Alliance traces`;
    main.replaceChildren(h("p", { class: "loading" }, "Loading trace…"));
    announce("Loading trace…");
    let trace;
    try {
      await loadServices().catch(() => []);
      const data = await api(`traces/${encodeURIComponent(traceId)}`);
      if (!data || !data.length || !data[0].spans.length) throw new ApiError("trace not found", 404);
      trace = traceModel(data[0]);
    } catch (error) {
      const missing = error.status === 404;
      main.replaceChildren(notice("error",
        missing ? `No trace ${traceId} in Jaeger.` : "Cannot load the trace.",
        missing ? "Jaeger keeps traces in memory: it may have restarted, or the spans have not arrived yet." : error.message),
        h("p", {}, h("a", { href: appUrl("search") }, "Back to search")));
      announce("Cannot load the trace.");
      setState("error");
      return;
    }
    document.title = `${trace.root.service}: ${trace.root.name} · Alliance traces`;
    const selected = new URLSearchParams(location.search).get("span");
    main.replaceChildren(traceHeader(trace), waterfall(trace, selected));
    announce(`Trace with ${trace.spans.length} spans across ${trace.serviceCounts.length} services loaded.`);
    setState("ready");
  }

  function traceHeader(trace) {
    const linkedTraces = trace.links.filter(({ link }) => link.traceID !== trace.id);
    return h("header", { class: "trace-header" },
      h("div", { class: "trace-title-row" },
        h("h1", {},
          h("span", { class: "root-service", style: `--service: ${serviceColour(trace.root.service)}` }, trace.root.service),
          ": ", h("span", { class: "root-name" }, trace.root.name)),
        trace.errors ? h("span", { class: "badge badge-error" }, `${trace.errors} error${trace.errors === 1 ? "" : "s"}`) : null,
        h("a", { class: "raw-link", href: new URL(`api/traces/${trace.id}`, base).pathname }, "JSON")),
      h("dl", { class: "facts" },
        fact("Trace id", h("code", { class: "trace-id" }, trace.id)),
        fact("Started", timeElement(trace.start)),
        fact("Duration", formatDuration(trace.duration)),
        fact("Spans", String(trace.spans.length)),
        fact("Depth", String(trace.depth)),
        fact("Services", String(trace.serviceCounts.length))),
      h("ul", { class: "chips", "aria-label": "Services and their span counts" },
        trace.serviceCounts.map(([service, count]) => h("li", {}, serviceChip(service, count)))),
      linkedTraces.length
        ? h("section", { class: "linked-traces", "aria-labelledby": "linked-title" },
          h("h2", { id: "linked-title" }, "Linked traces"),
          h("ul", {}, linkedTraces.map(({ from, link }) => h("li", {},
            h("span", { class: "ref-type" }, link.refType), " from ",
            h("strong", {}, `${from.service}: ${from.name}`), " to ",
            h("a", { href: traceHref(link.traceID, link.spanID), class: "trace-link", "data-linked-trace": link.traceID },
              `trace ${shortId(link.traceID)}`)))))
        : null,
      trace.warnings.length ? notice("warning", "Jaeger has warnings about this trace.", trace.warnings.join(" ")) : null);
  }

  function fact(term, value) {
    return h("div", {}, h("dt", {}, term), h("dd", {}, value));
  }

  // Round tick spacing: 1, 2 or 5 times a power of ten, about four ticks across.
  function ticks(total) {
    if (total <= 0) return [0];
    const rough = total / 4;
    const power = 10 ** Math.floor(Math.log10(rough));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
    const found = [];
    for (let t = 0; t <= total + step / 1000; t += step) found.push(t);
    return found;
  }

  function waterfall(trace, selectedId) {
    const total = Math.max(trace.duration, 1);
    const pct = (us) => `${Math.min(100, Math.max(0, (us / total) * 100))}%`;
    const collapsed = new Set();
    const rows = new Map();

    const filterInput = h("input", {
      id: "span-filter", type: "search", placeholder: "Find spans by service, name or attribute",
      autocomplete: "off", spellcheck: "false",
    });
    const filterCount = h("span", { class: "muted", role: "status" });
    const toolbar = h("div", { class: "wf-toolbar" },
      h("h2", {}, "Spans"),
      h("div", { class: "wf-find" }, h("label", { for: "span-filter", class: "visually-hidden" }, "Find spans"), filterInput, filterCount),
      h("button", { type: "button", onclick: () => { collapsed.clear(); applyVisibility(); } }, "Expand all"),
      h("button", {
        type: "button",
        onclick: () => {
          trace.spans.filter((s) => s.children.length).forEach((s) => collapsed.add(s.id));
          applyVisibility();
        },
      }, "Collapse all"));

    const axis = h("div", { class: "wf-row wf-axis", "aria-hidden": "true" },
      h("div", { class: "wf-name" }, "Service and operation"),
      h("div", { class: "wf-time" }, ticks(total).map((t) =>
        h("span", { class: "tick", style: `left: ${pct(t)}` }, h("span", {}, formatDuration(t))))));

    const list = h("ol", { class: "wf-rows", "aria-label": "Spans of the trace, parents before their children" });
    for (const span of trace.spans) {
      const detailId = `detail-${span.id}`;
      const toggle = span.children.length
        ? h("button", {
          type: "button", class: "wf-toggle", "aria-expanded": "true",
          "aria-label": `Collapse the ${span.children.length} child span${span.children.length === 1 ? "" : "s"} of ${span.name}`,
          onclick: () => {
            if (collapsed.has(span.id)) collapsed.delete(span.id);
            else collapsed.add(span.id);
            applyVisibility();
          },
        })
        : h("span", { class: "wf-toggle-spacer", "aria-hidden": "true" });
      const opener = h("button", {
        type: "button", class: "wf-open", "aria-expanded": "false", "aria-controls": detailId,
        title: `${span.service}: ${span.name}`,
        onclick: () => toggleDetail(span),
        onkeydown: (event) => moveFocus(event, span),
      },
      // Spaces between the parts, for screen readers and copied text (flex layout drops them).
      h("span", { class: "wf-service" }, span.service), " ",
      h("span", { class: "wf-op" }, span.name),
      span.kind ? [" ", h("span", { class: `kind kind-${span.kind}` }, span.kind)] : null,
      span.error ? [" ", h("span", { class: "badge badge-error" }, "error")] : null,
      span.links.length ? [" ", h("span", { class: "badge badge-link", title: "Links to other spans" }, `${span.links.length} link${span.links.length === 1 ? "" : "s"}`)] : null);
      const startOffset = span.start - trace.start;
      const row = h("li", {
        class: `wf-item${span.error ? " has-error" : ""}`,
        "data-span-id": span.id, "data-depth": span.depth, "data-service": span.service,
        "data-operation": span.name, style: `--service: ${serviceColour(span.service)}; --depth: ${span.depth}`,
      },
      h("div", { class: "wf-row" },
        h("div", { class: "wf-name" }, h("span", { class: "wf-indent", "aria-hidden": "true" }), toggle, opener),
        h("div", { class: "wf-time", "aria-hidden": "true" },
          ticks(total).map((t) => h("span", { class: "gridline", style: `left: ${pct(t)}` })),
          h("span", { class: "bar", style: `left: ${pct(startOffset)}; width: max(2px, ${pct(span.duration)})` }),
          // Right of its bar; the timeline keeps a margin so the last bar's label fits.
          h("span", { class: "bar-label", style: `left: ${pct(startOffset + span.duration)}` },
            formatDuration(span.duration)))),
      h("div", { class: "span-detail", id: detailId, hidden: true }));
      rows.set(span.id, { row, toggle, opener, detail: row.lastChild, span });
      list.append(row);
    }

    function hiddenByCollapse(span) {
      for (let p = span.parent; p; p = p.parent) if (collapsed.has(p.id)) return true;
      return false;
    }

    function applyVisibility() {
      for (const { row, toggle, span } of rows.values()) {
        row.hidden = hiddenByCollapse(span);
        if (toggle.tagName === "BUTTON") {
          const open = !collapsed.has(span.id);
          toggle.setAttribute("aria-expanded", String(open));
          const n = span.children.length;
          toggle.setAttribute("aria-label", `${open ? "Collapse" : "Expand"} the ${n} child span${n === 1 ? "" : "s"} of ${span.name}`);
        }
      }
    }

    function toggleDetail(span, open) {
      const entry = rows.get(span.id);
      const show = open === undefined ? entry.detail.hidden : open;
      if (show && !entry.detail.firstChild) entry.detail.append(...spanDetail(trace, span));
      entry.detail.hidden = !show;
      entry.opener.setAttribute("aria-expanded", String(show));
      entry.row.classList.toggle("is-open", show);
      // The open span goes into the address, so the link opens on it.
      const url = new URL(location.href);
      if (show) url.searchParams.set("span", span.id);
      else if (url.searchParams.get("span") === span.id) url.searchParams.delete("span");
      history.replaceState(null, "", url);
    }

    // Up and down arrows walk the visible spans, like a tree.
    function moveFocus(event, span) {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      const visible = trace.spans.filter((s) => !rows.get(s.id).row.hidden);
      const next = visible[visible.indexOf(span) + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) {
        event.preventDefault();
        rows.get(next.id).opener.focus();
      }
    }

    filterInput.addEventListener("input", () => {
      const needle = filterInput.value.trim().toLowerCase();
      let matches = 0;
      for (const { row, span } of rows.values()) {
        const haystack = [span.service, span.name, span.id, ...span.tags.map((t) => `${t.key}=${tagValue(t)}`)]
          .join(" ").toLowerCase();
        const match = Boolean(needle) && haystack.includes(needle);
        row.classList.toggle("is-match", match);
        row.classList.toggle("is-dimmed", Boolean(needle) && !match);
        if (match) matches += 1;
      }
      filterCount.textContent = needle ? `${matches} matching` : "";
    });

    const section = h("section", { class: "waterfall", "aria-labelledby": "spans-title" }, toolbar, axis, list);
    toolbar.firstChild.id = "spans-title";
    if (selectedId && rows.has(selectedId)) {
      toggleDetail(rows.get(selectedId).span, true);
      requestAnimationFrame(() => {
        const { row } = rows.get(selectedId);
        const box = row.getBoundingClientRect();
        if (box.top < 0 || box.top > innerHeight - 120) row.scrollIntoView({ block: "start" });
      });
    }
    return section;
  }

  function keyValueTable(caption, entries) {
    if (!entries.length) return h("p", { class: "muted" }, `No ${caption.toLowerCase()}.`);
    return h("table", { class: "kv" },
      h("caption", { class: "visually-hidden" }, caption),
      h("tbody", {}, entries.map(([key, value]) =>
        h("tr", {}, h("th", { scope: "row" }, key), h("td", {}, value)))));
  }

  function tagEntries(tags) {
    return tags.slice().sort((a, b) => a.key.localeCompare(b.key)).map((t) => [t.key, tagValue(t)]);
  }

  function spanDetail(trace, span) {
    const offset = span.start - trace.start;
    const parent = span.parentId
      ? (span.parent ? h("span", {}, h("code", {}, span.parentId), ` (${span.parent.service}: ${span.parent.name})`)
        : h("span", {}, h("code", {}, span.parentId), " (not in this trace)"))
      : "none (a root span)";
    const events = (span.raw.logs || []).slice().sort((a, b) => a.timestamp - b.timestamp);
    const parts = [
      h("h3", { class: "detail-title" }, `${span.service}: ${span.name}`),
      h("dl", { class: "facts facts-compact" },
        fact("Service", span.service),
        fact("Kind", span.kind || "unspecified"),
        fact("Start", `${formatDuration(offset)} after the trace began`),
        fact("Duration", formatDuration(span.duration)),
        fact("Span id", h("code", {}, span.id)),
        fact("Parent span", parent)),
      h("div", { class: "detail-grid" },
        h("section", {},
          h("h4", {}, "Attributes"),
          keyValueTable("Attributes", tagEntries(span.tags))),
        h("section", {},
          h("h4", {}, "Process"),
          // Jaeger keeps the service name apart from the process's other attributes.
          keyValueTable("Process attributes",
            [["service.name", span.process.serviceName], ...tagEntries(span.process.tags || [])]))),
    ];
    parts.push(h("section", {},
      h("h4", {}, `Events (${events.length})`),
      events.length
        ? h("ol", { class: "events" }, events.map((event) => h("li", {},
          h("span", { class: "event-time" }, `${formatDuration(event.timestamp - trace.start)}`),
          keyValueTable("Event fields", tagEntries(event.fields || [])))))
        : h("p", { class: "muted" }, "No events.")));
    if (span.links.length) {
      parts.push(h("section", {},
        h("h4", {}, `Links (${span.links.length})`),
        h("ul", { class: "links" }, span.links.map((link) => h("li", {},
          h("span", { class: "ref-type" }, link.refType), " ",
          link.traceID === trace.id
            ? h("a", { href: traceHref(trace.id, link.spanID) }, `span ${link.spanID} in this trace`)
            : h("a", { href: traceHref(link.traceID, link.spanID), class: "trace-link", "data-linked-trace": link.traceID },
              `trace ${link.traceID}, span ${link.spanID}`))))));
    }
    if ((span.raw.warnings || []).length) {
      parts.push(notice("warning", "Warnings", span.raw.warnings.join(" ")));
    }
    return parts;
  }

  // --- Start ------------------------------------------------------------------------------

  async function start() {
    wireTopBar();
    const { page, id } = route();
    try {
      if (page === "trace" && id) await tracePage(id);
      else await searchPage();
    } catch (error) {
      main.replaceChildren(notice("error", "Something went wrong on this page.", error.message));
      setState("error");
    }
  }

  start();
})();
