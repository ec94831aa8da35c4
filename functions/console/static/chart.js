// The overview's chart: outcomes per day over the last 30 days as stacked bars, drawn as
// SVG with DOM calls (no library), with the same figures in a table for screen readers
// and for anyone who would rather read them.

import { h, s } from "./dom.js";
import { OUTCOMES } from "./labels.js";

const WIDTH = 1200;
const HEIGHT = 240;
const PAD = { left: 44, right: 8, top: 12, bottom: 30 };

function niceMax(value) {
  if (value <= 4) return 4;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 2.5, 5, 10]) {
    if (factor * step >= value) return factor * step;
  }
  return 10 * step;
}

const dayLabel = (date) => String(date ?? "").slice(5); // "2026-12-05" -> "12-05"

export function outcomesChart(days) {
  const totals = days.map((day) => OUTCOMES.reduce((sum, [name]) => sum + (Number(day[name]) || 0), 0));
  const top = niceMax(Math.max(0, ...totals));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / Math.max(days.length, 1);
  const barWidth = Math.max(2, slot * 0.7);
  const y = (value) => PAD.top + plotHeight - (value / top) * plotHeight;

  const grid = [0, top / 2, top].map((value) =>
    s(
      "g",
      { class: "grid" },
      s("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value) }),
      s("text", { x: PAD.left - 6, y: y(value) + 4, "text-anchor": "end" }, String(value)),
    ),
  );
  const bars = days.map((day, index) => {
    const x = PAD.left + index * slot + (slot - barWidth) / 2;
    let base = 0;
    const parts = OUTCOMES.map(([name, text]) => {
      const value = Number(day[name]) || 0;
      if (!value) return null;
      const rect = s(
        "rect",
        { class: `series-${name}`, x, width: barWidth, y: y(base + value), height: y(base) - y(base + value) },
        s("title", {}, `${day.date} ${text} ${value}`),
      );
      base += value;
      return rect;
    });
    const tick =
      index % 5 === 0 || index === days.length - 1
        ? s("text", { class: "tick", x: x + barWidth / 2, y: HEIGHT - 8, "text-anchor": "middle" }, dayLabel(day.date))
        : null;
    return s("g", { class: "day" }, parts, tick);
  });
  const total = totals.reduce((a, b) => a + b, 0);
  const svg = s(
    "svg",
    {
      class: "chart",
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-labelledby": "chart-title chart-desc",
    },
    s("title", { id: "chart-title" }, "最近 30 天每天的处理结果"),
    s("desc", { id: "chart-desc" }, `共 ${total} 张发票,按天叠加显示已创建、重复、被拒绝、无法识别的数量。`),
    grid,
    bars,
  );
  const legend = h(
    "ul",
    { class: "legend" },
    OUTCOMES.map(([name, text]) => h("li", {}, h("span", { class: `swatch series-${name}`, "aria-hidden": "true" }), text)),
  );
  const table = h(
    "details",
    { class: "chart-data" },
    h("summary", {}, "按天查看数字"),
    h(
      "table",
      { class: "data" },
      h("caption", { class: "visually-hidden" }, "最近 30 天每天的处理结果"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "日期"), OUTCOMES.map(([, text]) => h("th", { scope: "col" }, text)))),
      h(
        "tbody",
        {},
        days.map((day) =>
          h("tr", {}, h("th", { scope: "row" }, day.date), OUTCOMES.map(([name]) => h("td", { class: "num" }, String(day[name] ?? 0)))),
        ),
      ),
    ),
  );
  return h("figure", { class: "chart-box" }, svg, h("figcaption", {}, legend), table);
}
