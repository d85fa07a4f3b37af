// @ts-check
/** Plain SVG charts for the campaign results (nothing fetched, no library): labelled horizontal bars. */

const NS = "http://www.w3.org/2000/svg";

/**
 * An SVG element with attributes.
 * @param {string} tag @param {Record<string, string | number>} attrs @param {string} [text]
 */
function svg(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Horizontal bars, one per `[label, value]`, longest = full width; the value written after each bar.
 * @param {string} title read by screen readers
 * @param {[string, number][]} rows
 * @param {string} [color]
 */
export function bars(title, rows, color = "#0b5cad") {
  const width = 560, label = 150, height = 26, max = Math.max(1, ...rows.map(([, v]) => v));
  const root = svg("svg", { viewBox: `0 0 ${width} ${rows.length * height + 8}`, role: "img", "aria-label": title, class: "chart" });
  root.append(svg("title", {}, title));
  rows.forEach(([name, value], i) => {
    const y = i * height + 4, w = ((width - label - 60) * value) / max;
    root.append(
      svg("text", { x: label - 8, y: y + 15, "text-anchor": "end", class: "chart-label" }, name),
      svg("rect", { x: label, y, width: Math.max(w, value ? 2 : 0), height: height - 8, fill: color, rx: 3, "data-label": name, "data-value": value }),
      svg("text", { x: label + w + 6, y: y + 15, class: "chart-value" }, String(value)),
    );
  });
  return root;
}

/**
 * A point estimate with its confidence interval on an axis through zero (uplift against control).
 * @param {string} title @param {number} estimate @param {number} low @param {number} high
 */
export function interval(title, estimate, low, high) {
  const width = 560, span = Math.max(Math.abs(low), Math.abs(high), Math.abs(estimate), 0.01) * 1.2;
  const x = (/** @type {number} */ v) => 20 + ((v + span) / (2 * span)) * (width - 40);
  const root = svg("svg", { viewBox: `0 0 ${width} 60`, role: "img", "aria-label": title, class: "chart" });
  root.append(
    svg("title", {}, title),
    svg("line", { x1: x(0), x2: x(0), y1: 5, y2: 45, stroke: "#5e6c84", "stroke-dasharray": "3 3" }),
    svg("line", { x1: x(low), x2: x(high), y1: 25, y2: 25, stroke: "#0b5cad", "stroke-width": 3 }),
    svg("circle", { cx: x(estimate), cy: 25, r: 6, fill: "#0b5cad" }),
    svg("text", { x: x(0), y: 58, "text-anchor": "middle", class: "chart-label" }, "0"),
    svg("text", { x: x(estimate), y: 12, "text-anchor": "middle", class: "chart-value" },
      `${(estimate * 100).toFixed(1)} % [${(low * 100).toFixed(1)}, ${(high * 100).toFixed(1)}]`),
  );
  return root;
}

/**
 * Grouped vertical bars over time: one group per bucket (its start as the label below), one bar
 * per series; a legend above. Each bar carries `data-series` and `data-value`, each group `data-bucket`.
 * @param {string} title read by screen readers
 * @param {{start: number, label: string, values: number[]}[]} buckets
 * @param {{name: string, label: string, color: string}[]} series
 */
export function timeline(title, buckets, series) {
  const top = 24, plot = 150, foot = 34, group = Math.max(series.length * 10 + 12, 40);
  const width = Math.max(560, 40 + buckets.length * group);
  const max = Math.max(1, ...buckets.flatMap((b) => b.values));
  const root = svg("svg", { viewBox: `0 0 ${width} ${top + plot + foot}`, role: "img", "aria-label": title, class: "chart timeline" });
  root.append(svg("title", {}, title));
  series.forEach((s, i) => {
    root.append(svg("rect", { x: 40 + i * 95, y: 6, width: 10, height: 10, fill: s.color }), svg("text", { x: 54 + i * 95, y: 15, class: "chart-label" }, s.label));
  });
  root.append(svg("line", { x1: 30, x2: width, y1: top + plot, y2: top + plot, stroke: "#5e6c84" }),
    svg("text", { x: 26, y: top + 10, "text-anchor": "end", class: "chart-label" }, String(max)));
  buckets.forEach((b, gi) => {
    const g = svg("g", { "data-bucket": b.start });
    const x0 = 40 + gi * group;
    b.values.forEach((value, si) => {
      const h = (plot * value) / max;
      g.append(svg("rect", { x: x0 + si * 10, y: top + plot - h, width: 8, height: Math.max(h, value ? 1 : 0), fill: series[si].color,
        "data-series": series[si].name, "data-value": value }, undefined));
      g.lastElementChild?.append(svg("title", {}, `${b.label} · ${series[si].label}: ${value}`));
    });
    g.append(svg("text", { x: x0, y: top + plot + 14, class: "chart-label" }, b.label));
    root.append(g);
  });
  return root;
}
