// The start page: the overview (counts per state, paid checks today, outcomes per day)
// above the review queue (newest first, filtered by state, owner and date, a page at a
// time through the API's cursor). Both are polled every few seconds.

import { ApiError, apiKey, call } from "./api.js";
import { outcomesChart } from "./chart.js";
import { h, money, replace, when } from "./dom.js";
import { QUEUE_STATES, STATUS, label } from "./labels.js";
import { remember } from "./order.js";

const POLL_MS = 5000;
const PAGE_SIZE = 20;
const FILTERS_KEY = "fapiao.console.filters";

function savedFilters() {
  try {
    return JSON.parse(sessionStorage.getItem(FILTERS_KEY)) ?? {};
  } catch {
    return {};
  }
}

export function queueParams(filters = savedFilters()) {
  return {
    limit: PAGE_SIZE,
    status: filters.status,
    owner: filters.owner,
    date_from: filters.date_from,
    date_to: filters.date_to,
  };
}

const fileName = (item) => item.file_name ?? (item.key ? item.key.split("/").pop() : "");
const itemHref = (id) => `#/items/${encodeURIComponent(id)}`;

export function statusBadge(status, attrs = {}) {
  return h("span", { class: `status status-${status}`, ...attrs }, label(STATUS, status));
}

function overviewCards(data) {
  const states = data.states ?? {};
  return h(
    "div",
    { class: "stats" },
    QUEUE_STATES.map((state) =>
      h(
        "div",
        { class: `stat stat-${state}` },
        h("span", { class: "stat-label" }, `${label(STATUS, state)}`),
        h("span", { class: "stat-value" }, String(states[state] ?? 0)),
      ),
    ),
    h(
      "div",
      { class: "stat stat-paid" },
      h("span", { class: "stat-label" }, "今日付费查验"),
      h("span", { class: "stat-value" }, String(data.paid_checks_today ?? 0)),
    ),
  );
}

export function showQueue(main, { open }) {
  document.title = "待复核队列 - 发票复核台";
  let filters = savedFilters();
  let cursors = [null]; // the cursor of each page seen so far; the last is the current page's
  let shown = ""; // what the table shows, to redraw only on change
  let overviewShown = "";
  let stopped = false;
  let timer = null;

  const overviewBody = h("div", { class: "overview-body" }, h("p", { class: "muted" }, "正在加载概览…"));
  const overview = h(
    "section",
    { class: "card overview", "aria-labelledby": "overview-title" },
    h("h2", { id: "overview-title" }, "概览"),
    overviewBody,
  );

  const field = (name, text, control) =>
    h("div", { class: "filter" }, h("label", { for: `filter-${name}` }, text), control);
  const statusSelect = h(
    "select",
    { id: "filter-status", name: "status" },
    h("option", { value: "" }, "全部"),
    QUEUE_STATES.map((state) => h("option", { value: state }, label(STATUS, state))),
  );
  const ownerInput = h("input", { id: "filter-owner", name: "owner", type: "text", autocomplete: "off", maxlength: 64 });
  const fromInput = h("input", { id: "filter-date_from", name: "date_from", type: "date" });
  const toInput = h("input", { id: "filter-date_to", name: "date_to", type: "date" });
  statusSelect.value = filters.status ?? "";
  ownerInput.value = filters.owner ?? "";
  fromInput.value = filters.date_from ?? "";
  toInput.value = filters.date_to ?? "";

  const filterForm = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "筛选队列",
      onsubmit: (event) => {
        event.preventDefault();
        filters = {
          status: statusSelect.value,
          owner: ownerInput.value.trim(),
          date_from: fromInput.value,
          date_to: toInput.value,
        };
        sessionStorage.setItem(FILTERS_KEY, JSON.stringify(filters));
        cursors = [null];
        refresh(true);
      },
      onreset: () => setTimeout(() => filterForm.requestSubmit(), 0),
    },
    field("status", "状态", statusSelect),
    field("owner", "提交人", ownerInput),
    field("date_from", "起始日期", fromInput),
    field("date_to", "截止日期", toInput),
    h("div", { class: "filter-buttons" }, h("button", { type: "submit" }, "筛选"), h("button", { type: "reset", class: "quiet" }, "清除")),
  );

  const tbody = h("tbody", {});
  const table = h(
    "table",
    { class: "queue" },
    h("caption", { class: "visually-hidden" }, "待复核的发票,最新的在前;点击一行打开"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["时间", "提交人", "文件", "发票类型", "发票号码", "价税合计", "状态", "说明"].map((text) =>
          h("th", { scope: "col", class: text === "价税合计" ? "num" : undefined }, text),
        ),
      ),
    ),
    tbody,
  );
  const notice = h("p", { class: "notice", role: "alert" });
  const prev = h("button", { type: "button", class: "quiet", onclick: () => turn(-1) }, "上一页");
  const next = h("button", { type: "button", class: "quiet", onclick: () => turn(1) }, "下一页");
  const pageNumber = h("span", { class: "page-number" });
  const updated = h("span", { class: "muted updated" });
  let nextCursor = null;

  const queue = h(
    "section",
    { class: "card queue-card", "aria-labelledby": "queue-title" },
    h("div", { class: "section-head" }, h("h2", { id: "queue-title" }, "待复核队列"), updated),
    filterForm,
    notice,
    h("div", { class: "table-wrap" }, table),
    h("nav", { class: "pager", "aria-label": "翻页" }, prev, pageNumber, next),
  );

  replace(main, h("h1", { class: "visually-hidden" }, "发票复核台"), overview, queue);

  function row(item) {
    const fields = item.fields ?? {};
    const open_ = () => open(item.id);
    return h(
      "tr",
      {
        "data-id": item.id,
        class: "row",
        tabindex: "-1",
        onclick: (event) => {
          if (!event.target.closest("a")) open_();
        },
        onkeydown: (event) => {
          if (event.key === "Enter" && event.target === event.currentTarget) open_();
        },
      },
      h("td", { class: "nowrap" }, when(item.changed_at)),
      h("td", {}, item.owner ?? ""),
      h("td", { class: "file" }, fileName(item)),
      h("td", {}, item.type_name ?? fields.invoice_type ?? ""),
      h("td", { class: "nowrap" }, h("a", { href: itemHref(item.id) }, fields.invoice_number ?? "(无号码)")),
      h("td", { class: "num" }, money(fields.total_amount)),
      h("td", {}, statusBadge(item.status)),
      h("td", { class: "message" }, item.message ?? ""),
    );
  }

  function drawQueue(data) {
    // An answer that arrives after 退出 (the poll was in flight) is dropped: nothing of
    // it is kept in the tab once signed out.
    if (!apiKey.get()) return;
    const items = data.items ?? [];
    nextCursor = data.cursor ?? null;
    const key = JSON.stringify(data);
    remember(items.map((item) => item.id));
    prev.disabled = cursors.length <= 1;
    next.disabled = !nextCursor;
    pageNumber.textContent = `第 ${cursors.length} 页`;
    if (key === shown) return;
    shown = key;
    if (!items.length) {
      replace(tbody, h("tr", {}, h("td", { colspan: 8, class: "empty" }, "没有需要处理的发票。")));
      return;
    }
    replace(tbody, items.map(row));
  }

  async function loadQueue() {
    const params = { ...queueParams(filters), cursor: cursors[cursors.length - 1] };
    try {
      drawQueue(await call("common/review", { params }));
      notice.textContent = "";
      updated.textContent = `更新于 ${when(new Date().toISOString()).slice(11)}`;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) notice.textContent = error.message;
    }
  }

  async function loadOverview() {
    try {
      const data = await call("console/api/overview");
      const key = JSON.stringify(data);
      if (key === overviewShown) return;
      overviewShown = key;
      replace(overviewBody, overviewCards(data ?? {}), outcomesChart(data?.outcomes ?? []));
    } catch (error) {
      const text = error.status === 404 ? "概览暂不可用。" : `概览暂不可用:${error.message}`;
      if (overviewShown !== text) replace(overviewBody, h("p", { class: "muted" }, text));
      overviewShown = text;
    }
  }

  async function refresh(now = false) {
    clearTimeout(timer);
    if (now) shown = "";
    if (now || !document.hidden) await Promise.all([loadQueue(), loadOverview()]);
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  }

  function turn(step) {
    if (step > 0 && nextCursor) cursors.push(nextCursor);
    else if (step < 0 && cursors.length > 1) cursors.pop();
    else return;
    refresh(true);
  }

  function moveFocus(step) {
    const rows = [...tbody.querySelectorAll("tr[data-id]")];
    if (!rows.length) return;
    const at = rows.indexOf(document.activeElement);
    const target = rows[Math.min(rows.length - 1, Math.max(0, at < 0 ? (step > 0 ? 0 : rows.length - 1) : at + step))];
    target.focus();
  }

  refresh(true);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    key(event) {
      if (event.key === "j") moveFocus(1);
      else if (event.key === "k") moveFocus(-1);
      else return false;
      return true;
    },
  };
}
