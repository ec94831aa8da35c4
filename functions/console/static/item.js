// The item page (#/items/<review id>): the file beside the fields that were read, each
// with its sources and disagreements; the history of checks, the file's signature and
// the corrections. 保存并查验 sends the changed fields to the review API's fix and shows
// the outcome in place; 重新查验 checks the invoice again now.

import { ApiError, call, send } from "./api.js";
import { fieldText, h, replace, toast, when } from "./dom.js";
import {
  FIELD_LABELS,
  ISSUER_KINDS,
  MAIN_FIELDS,
  ROLES,
  SIGNATURE_STATES,
  SOURCES,
  STATUS,
  label,
} from "./labels.js";
import { remembered, remember, renamed } from "./order.js";
import { queueParams, statusBadge } from "./queue.js";

const POLL_MS = 5000;
const PICTURE_TYPES = "image/png, image/jpeg;q=0.9"; // the template's binary media types
const entryPath = (id) => `common/review/${encodeURIComponent(id)}`;

// The receipt_check (001) fields that say what the tax authority has for a field.
const CHECKED = {
  invoice_code: "invoice_code",
  invoice_number: "invoice_num",
  receipt_date: "receipt_date",
  amount: "amount",
  tax_amount: "tax_amount",
  total_amount: "total_amount",
  check_code: "check_code",
  buyer_name: "buyer_name",
  buyer_tax_code: "buyer_tax_code",
  seller_name: "seller_name",
  seller_tax_code: "seller_tax_code",
};

function checkedValue(check, name) {
  const value = check?.[CHECKED[name]];
  if (value === undefined || value === null || value === "") return null;
  if (name === "receipt_date") return String(value).slice(0, 10).replaceAll("-", "");
  return fieldText(value);
}

function sameValue(a, b) {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  return a !== "" && b !== "" && Number.isFinite(x) && Number.isFinite(y) && x === y;
}

// The fields named in a message of the catalogue ("补全后查验: total_amount").
function namedFields(text, names) {
  const found = new Set();
  for (const match of String(text ?? "").matchAll(/[a-z_]+/g)) {
    if (names.includes(match[0])) found.add(match[0]);
  }
  return found;
}

// The field a refusal is about: the first "name:" of resMsg that is a field of the form
// ("请求参数错误: total_amount: ...", "...: receipt_ocr.invoices[0].total_amount: ..."),
// else the first field it names at all.
function refusedField(message, names) {
  for (const match of String(message).matchAll(/([a-z_]+):/g)) {
    if (names.includes(match[1])) return match[1];
  }
  return [...namedFields(message, names)][0] ?? null;
}

export function showItem(main, reviewId, { open }) {
  let id = reviewId;
  let entry = null;
  let original = {}; // each field's value as loaded: a fix sends what differs
  let names = [];
  let stopped = false;
  let timer = null;
  let busy = false;
  let picture = null; // the blob: URL shown
  let page = 1;
  let pages = 1;
  const inputs = new Map();
  const errors = new Map();

  document.title = "发票 - 发票复核台";
  const statusEl = h("span", { "data-role": "status", class: "status" });
  const heading = h("h1", { id: "item-title" }, "发票");
  const headMessage = h("p", { class: "item-message" });
  const headMeta = h("p", { class: "muted item-meta" });
  const prevButton = h("button", { type: "button", class: "quiet", onclick: () => go(-1) }, "上一条");
  const nextButton = h("button", { type: "button", class: "quiet", onclick: () => go(1) }, "下一条");

  const fileBox = h("div", { class: "file-box" }, h("p", { class: "muted" }, "正在加载文件…"));
  const fileCaption = h("figcaption", { class: "muted" });
  const pager = h("div", { class: "file-pager", hidden: true });
  const filePane = h(
    "section",
    { class: "card file-pane", "aria-labelledby": "file-title" },
    h("h2", { id: "file-title" }, "发票文件"),
    h("figure", {}, fileBox, fileCaption),
    pager,
  );

  const formError = h("p", { class: "form-error", role: "alert" });
  const formStatus = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
  const fieldList = h("div", { class: "field-list" });
  const saveButton = h("button", { type: "submit", class: "primary" }, "保存并查验");
  const recheckReason = h("span", { class: "muted recheck-reason", id: "recheck-reason" });
  const recheckButton = h(
    "button",
    { type: "button", onclick: () => recheck(), "aria-describedby": "recheck-reason" },
    "重新查验",
  );
  const nextAfter = h("button", { type: "button", class: "quiet", onclick: () => go(1) }, "下一条 →");
  const form = h(
    "form",
    {
      class: "fields",
      "aria-labelledby": "fields-title",
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        save();
      },
    },
    fieldList,
    formError,
    h("div", { class: "actions" }, saveButton, recheckButton, nextAfter, recheckReason),
    formStatus,
  );
  const fieldsPane = h(
    "section",
    { class: "card fields-pane", "aria-labelledby": "fields-title" },
    h("h2", { id: "fields-title" }, "识别结果"),
    form,
  );
  const historyBox = h("section", { class: "card", "aria-labelledby": "history-title" });
  const signatureBox = h("section", { class: "card", "aria-labelledby": "signature-title", hidden: true });
  const correctionsBox = h("section", { class: "card", "aria-labelledby": "corrections-title" });

  replace(
    main,
    h(
      "div",
      { class: "item-page" },
      h(
        "nav",
        { class: "crumbs", "aria-label": "导航" },
        h("a", { href: "#/" }, "← 返回队列"),
        h("span", { class: "spacer" }),
        prevButton,
        nextButton,
      ),
      h("header", { class: "item-head" }, h("div", { class: "item-title" }, heading, statusEl), headMessage, headMeta),
      h("div", { class: "item-body" }, filePane, fieldsPane),
      h("div", { class: "item-more" }, historyBox, signatureBox, correctionsBox),
    ),
  );

  // --- the entry -----------------------------------------------------------------------

  function setStatus(status, message) {
    statusEl.dataset.status = status;
    statusEl.className = `status status-${status}`;
    statusEl.textContent = label(STATUS, status);
    headMessage.textContent = message ?? "";
  }

  function drawHead() {
    const fields = entry.fields ?? {};
    const number = fields.invoice_number ? `发票 ${fields.invoice_number}` : "未识别的文件";
    heading.textContent = number;
    document.title = `${number} - 发票复核台`;
    setStatus(entry.status, entry.message);
    const file = entry.file?.name ?? (entry.key ? entry.key.split("/").pop() : null);
    replace(
      headMeta,
      [
        entry.type_name ?? null,
        fields.seller_name ? `销售方 ${fields.seller_name}` : null,
        entry.owner ? `提交人 ${entry.owner}` : null,
        file ? `文件 ${file}` : null,
        `更新于 ${when(entry.changed_at)}`,
      ]
        .filter(Boolean)
        .join(" · "),
    );
  }

  function sourcesOf(name) {
    const list = entry.sources?.[name];
    return Array.isArray(list) ? list : [];
  }

  function disagreementsOf(name) {
    const found = (entry.disagreements ?? []).filter((d) => d.field === name);
    const checked = checkedValue(entry.check, name);
    const read = fieldText(entry.fields?.[name]);
    const lines = found.map((d) =>
      Object.entries(d.readings ?? {})
        .map(([source, value]) => `${label(SOURCES, source)} ${fieldText(value)}`)
        .join(" / "),
    );
    if (checked !== null && read !== "" && !sameValue(checked, read)) lines.push(`查验结果 ${checked}`);
    return lines;
  }

  // What the check says for a field that was not read: a hint, not a disagreement.
  function checkedHint(name) {
    const checked = checkedValue(entry.check, name);
    return checked !== null && fieldText(entry.fields?.[name]) === "" ? checked : null;
  }

  function fieldRow(name, flagged) {
    const inputId = `field-${name}`;
    const value = fieldText(entry.fields?.[name]);
    const multiline = name === "remark" || name === "other_info";
    const input = h(multiline ? "textarea" : "input", {
      id: inputId,
      name,
      autocomplete: "off",
      spellcheck: "false",
      rows: multiline ? 2 : undefined,
      type: multiline ? undefined : "text",
      "aria-describedby": `${inputId}-meta ${inputId}-error`,
      class: name.endsWith("amount") ? "num" : undefined,
    });
    input.value = value;
    input.addEventListener("input", () => {
      row.classList.toggle("changed", input.value.trim() !== original[name]);
    });
    const error = h("p", { class: "field-error", id: `${inputId}-error` });
    const sources = sourcesOf(name);
    const disagreements = disagreementsOf(name);
    const meta = h(
      "div",
      { class: "field-meta", id: `${inputId}-meta` },
      sources.length
        ? h("span", { class: "sources" }, "来源:", sources.map((source) => h("span", { class: `source source-${source}` }, label(SOURCES, source))))
        : null,
      disagreements.map((text) => h("span", { class: "disagreement" }, `不一致:${text}`)),
      checkedHint(name) === null ? null : h("span", { class: "checked" }, `查验结果:${checkedHint(name)}`),
      flagged && !value ? h("span", { class: "missing" }, "待补全") : null,
    );
    const row = h(
      "div",
      { class: `field${flagged ? " flagged" : ""}${disagreements.length ? " disputed" : ""}`, "data-field": name },
      h("label", { for: inputId }, label(FIELD_LABELS, name), h("span", { class: "field-name" }, name)),
      input,
      meta,
      error,
    );
    inputs.set(name, input);
    errors.set(name, error);
    return row;
  }

  function drawFields() {
    const fields = entry.fields ?? {};
    names = [...new Set([...MAIN_FIELDS, ...Object.keys(fields)])].filter((name) => {
      const value = fields[name];
      return value === undefined || value === null || typeof value !== "object";
    });
    original = Object.fromEntries(names.map((name) => [name, fieldText(fields[name])]));
    const flagged = namedFields(entry.message, names);
    inputs.clear();
    errors.clear();
    replace(fieldList, names.map((name) => fieldRow(name, flagged.has(name))));
  }

  function drawRecheck() {
    const isInvoice = Boolean(entry.invoice_key) && entry.status !== "U";
    const allowed = entry.recheck?.allowed !== false;
    recheckButton.disabled = !isInvoice || !allowed;
    if (!isInvoice) recheckReason.textContent = "补全字段并保存后才能查验";
    else if (!allowed) recheckReason.textContent = entry.recheck?.reason ?? "今天不能再查验";
    else recheckReason.textContent = "";
  }

  function table(caption, headers, rows) {
    return h(
      "table",
      { class: "data" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows),
    );
  }

  function drawHistory() {
    const checks = Array.isArray(entry.checks) ? entry.checks : null;
    const transitions = entry.transitions ?? [];
    const title = checks ? "查验记录" : "状态记录";
    let body;
    if (checks?.length) {
      body = table(
        title,
        ["时间", "结果", "说明", "付费"],
        checks.map((check) =>
          h(
            "tr",
            {},
            h("td", { class: "nowrap" }, when(check.at)),
            h("td", {}, statusBadge(check.status)),
            h("td", {}, check.message ?? ""),
            h("td", {}, check.paid ? "付费" : "免费"),
          ),
        ),
      );
    } else if (!checks && transitions.length) {
      body = table(
        title,
        ["时间", "状态", "说明"],
        transitions.map((t) =>
          h("tr", {}, h("td", { class: "nowrap" }, when(t.at)), h("td", {}, statusBadge(t.status)), h("td", {}, t.message ?? "")),
        ),
      );
    } else {
      const none = checks ? "还没有查验过。" : "还没有记录。";
      body = h("p", { class: "muted" }, entry.resolved_by ? `已由发票 ${entry.resolved_by} 处理。` : none);
    }
    const rechecks = entry.rechecks ?? [];
    replace(
      historyBox,
      h("h2", { id: "history-title" }, title),
      body,
      rechecks.length
        ? [
            h("h3", {}, "重新查验请求"),
            table(
              "重新查验请求",
              ["时间", "操作人", "角色"],
              rechecks.map((r) =>
                h("tr", {}, h("td", { class: "nowrap" }, when(r.at)), h("td", {}, r.by ?? ""), h("td", {}, label(ROLES, r.role))),
              ),
            ),
          ]
        : null,
    );
  }

  function drawSignature() {
    const signature = entry.signature;
    signatureBox.hidden = !signature;
    if (!signature) return;
    const rows = [
      ["状态", label(SIGNATURE_STATES, signature.state)],
      ["签发者", signature.issuer_kind ? label(ISSUER_KINDS, signature.issuer_kind) : null],
      ["签名者", signature.signer],
      ["签名时间", signature.signed_at ? when(signature.signed_at) : null],
      ["算法", signature.algorithm],
      ["原因", signature.reason],
    ].filter(([, value]) => value);
    replace(
      signatureBox,
      h("h2", { id: "signature-title" }, "文件签名"),
      h("dl", { class: `facts signature-${signature.state}` }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    );
  }

  function drawCorrections() {
    const corrections = entry.corrections ?? [];
    const withRole = corrections.some((c) => c.role);
    replace(
      correctionsBox,
      h("h2", { id: "corrections-title" }, "人工更正"),
      corrections.length
        ? table(
            "人工更正",
            ["时间", "字段", "原值", "新值", "操作人", ...(withRole ? ["角色"] : [])],
            corrections.map((c) =>
              h(
                "tr",
                {},
                h("td", { class: "nowrap" }, when(c.at)),
                h("td", {}, label(FIELD_LABELS, c.field)),
                h("td", { class: "old" }, c.old ?? "(空)"),
                h("td", { class: "new" }, c.new ?? "(空)"),
                h("td", {}, c.by ?? ""),
                withRole ? h("td", {}, label(ROLES, c.role)) : null,
              ),
            ),
          )
        : h("p", { class: "muted" }, "还没有人工更正。"),
    );
  }

  function dirty() {
    return names.some((name) => inputs.get(name)?.value.trim() !== original[name]);
  }

  function draw({ fields = true } = {}) {
    drawHead();
    if (fields) drawFields();
    drawRecheck();
    drawHistory();
    drawSignature();
    drawCorrections();
  }

  async function load() {
    try {
      entry = await call(entryPath(id));
    } catch (error) {
      if (error.status === 401) return;
      replace(
        main,
        h(
          "section",
          { class: "card" },
          h("h1", {}, error.status === 404 ? "找不到这条记录" : "无法打开这条记录"),
          h("p", {}, error.message),
          h("p", {}, h("a", { href: "#/" }, "← 返回队列")),
        ),
      );
      stopped = true;
      return;
    }
    draw();
    loadFile();
    schedule();
  }

  async function poll() {
    if (stopped || busy || document.hidden) return schedule();
    try {
      const fresh = await call(entryPath(id));
      if (JSON.stringify(fresh) !== JSON.stringify(entry)) {
        entry = fresh;
        draw({ fields: !dirty() });
      }
    } catch {
      // the next poll tries again; a refused key signs out (api.js)
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }

  // --- the file ------------------------------------------------------------------------

  function showPicture(blob) {
    const url = URL.createObjectURL(blob);
    const img = h("img", { "data-role": "invoice-file", alt: `发票文件第 ${page} 页`, src: url });
    img.addEventListener("click", () => img.classList.toggle("zoomed"));
    replace(fileBox, img);
    if (picture) URL.revokeObjectURL(picture);
    picture = url;
  }

  function drawPager() {
    pager.hidden = pages <= 1;
    replace(
      pager,
      h("button", { type: "button", class: "quiet", disabled: page <= 1, onclick: () => turnPage(-1) }, "上一页"),
      h("span", {}, `第 ${page} / ${pages} 页`),
      h("button", { type: "button", class: "quiet", disabled: page >= pages, onclick: () => turnPage(1) }, "下一页"),
    );
  }

  function turnPage(step) {
    page = Math.min(pages, Math.max(1, page + step));
    loadFile();
  }

  async function loadFile() {
    const shownId = id;
    fileCaption.textContent = entry.file?.name ?? "";
    let response;
    try {
      response = await send(`console/api/items/${encodeURIComponent(id)}/file`, {
        params: { page },
        accept: PICTURE_TYPES,
      });
    } catch (error) {
      replace(fileBox, h("p", { class: "file-missing" }, error.message));
      return;
    }
    if (stopped || shownId !== id) return;
    if (response.status === 404) {
      replace(fileBox, h("p", { class: "file-missing" }, "发票中心没有保存这张发票的文件。"));
      return;
    }
    if (!response.ok) {
      replace(fileBox, h("p", { class: "file-missing" }, `文件无法显示(HTTP ${response.status})`));
      return;
    }
    pages = Number(response.headers.get("X-Page-Count")) || entry.file?.pages || 1;
    showPicture(await response.blob());
    drawPager();
  }

  // --- fix and re-check ----------------------------------------------------------------

  function clearErrors() {
    formError.textContent = "";
    for (const [name, error] of errors) {
      error.textContent = "";
      inputs.get(name)?.removeAttribute("aria-invalid");
    }
  }

  function showRefusal(error) {
    const name = error.status === 400 || error.status === 422 ? refusedField(error.message, names) : null;
    if (name && errors.has(name)) {
      errors.get(name).textContent = error.message;
      const input = inputs.get(name);
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else {
      formError.textContent = error.message;
    }
  }

  async function outcome(data, verb) {
    const before = id;
    if (data.id && data.id !== id) {
      id = data.id;
      renamed(before, id);
      history.replaceState(null, "", `#/items/${encodeURIComponent(id)}`);
    }
    setStatus(data.status, data.message);
    const text = `${verb}:${label(STATUS, data.status)}${data.message ? `,${data.message}` : ""}`;
    formStatus.textContent = text;
    toast(text);
    try {
      entry = await call(entryPath(id));
      draw();
      if (before !== id) loadFile();
    } catch {
      // the outcome is shown; the next poll brings the rest
    }
  }

  async function save() {
    if (busy || !entry) return;
    clearErrors();
    const set = {};
    for (const name of names) {
      const value = inputs.get(name).value.trim();
      if (value !== original[name]) set[name] = value === "" ? null : value;
    }
    if (!Object.keys(set).length) {
      formStatus.textContent = "没有修改的字段。";
      return;
    }
    busy = true;
    saveButton.disabled = true;
    formStatus.textContent = "正在保存并查验…";
    try {
      const data = await call(`${entryPath(id)}/fix`, { method: "POST", body: { set } });
      await outcome(data, "已保存");
    } catch (error) {
      formStatus.textContent = "";
      if (error.status !== 401) showRefusal(error);
    } finally {
      busy = false;
      saveButton.disabled = false;
    }
  }

  async function recheck() {
    if (busy || !entry || recheckButton.disabled) return;
    clearErrors();
    busy = true;
    recheckButton.disabled = true;
    formStatus.textContent = "正在查验…";
    try {
      const data = await call(`${entryPath(id)}/recheck`, { method: "POST" });
      await outcome(data, "已查验");
      drawRecheck();
    } catch (error) {
      formStatus.textContent = "";
      if (error.status !== 401) {
        drawRecheck();
        recheckReason.textContent = error.message; // 429000: today's checks are used up
        recheckButton.disabled ||= error.status === 429;
      }
    } finally {
      busy = false;
    }
  }

  // --- next and previous ---------------------------------------------------------------

  async function go(step) {
    let order = remembered();
    if (!order.includes(id)) {
      try {
        const data = await call("common/review", { params: queueParams() });
        order = (data.items ?? []).map((item) => item.id);
        remember(order);
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 401) toast(error.message);
        return;
      }
    }
    const at = order.indexOf(id);
    const target = at < 0 ? (step > 0 ? order.find((other) => other !== id) : null) : order[at + step];
    if (!target) {
      toast(step > 0 ? "已经是本页最后一条" : "已经是本页第一条");
      return;
    }
    open(target);
  }

  function editFirst() {
    const flagged = fieldList.querySelector(".field.flagged input, .field.flagged textarea");
    const empty = names.map((name) => inputs.get(name)).find((input) => input && !input.value);
    const first = flagged ?? empty ?? inputs.get(names[0]);
    first?.focus();
    first?.select?.();
  }

  load();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (picture) URL.revokeObjectURL(picture);
    },
    key(event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        save();
        return true;
      }
      if (event.target.closest?.("input, textarea, select")) return false;
      if (event.key === "j") go(1);
      else if (event.key === "k") go(-1);
      else if (event.key === "e") editFirst();
      else return false;
      return true;
    },
  };
}

