// The reports page's chart: one figure of the table, per group over time (area, line, bar) or per group in
// total (pie). The rows come from the page itself (json_script), so the chart shows exactly the table.
(function () {
  "use strict";

  const section = document.querySelector("[data-report-chart]");
  if (!section || typeof window.Chart === "undefined") return;
  const rows = JSON.parse(document.getElementById("report-rows").textContent);
  const columns = JSON.parse(document.getElementById("report-columns").textContent);
  const canvas = section.querySelector("[data-chart-canvas]");
  const columnSelect = section.querySelector("[data-chart-column]");
  const palette = ["#2f5bd3", "#e07a1f", "#2a9d5b", "#c23b4e", "#7b4fc9", "#1b9bb0", "#b08a1b", "#5c6470",
    "#d45fa8", "#4e8a2a"];
  let type = "area";
  let chart = null;

  const periods = [...new Set(rows.map((r) => r.period_start))].sort();
  const groups = [...new Set(rows.map((r) => r.group_label))];

  function duration(seconds) {
    const total = Math.round(seconds);
    const days = Math.floor(total / 86400);
    const hours = Math.floor((total % 86400) / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    if (days) return `${days} d ${hours} h`;
    if (hours) return `${hours} h ${minutes} min`;
    if (minutes) return `${minutes} min ${total % 60} s`;
    return `${total % 60} s`;
  }

  // A figure as the table shows it: durations in words, whole numbers without ".0", percentages with a sign.
  function formatted(key, value) {
    if (value === null || value === undefined || value === "") return "—";
    const column = columns.find((c) => c.key === key);
    if (column && column.seconds) return duration(Number(value));
    return key.endsWith("_pct") ? `${Number(value)} %` : String(Number(value));
  }

  function isSummable(key) {
    const column = columns.find((c) => c.key === key);
    return !(column && column.seconds) && !key.endsWith("_pct");
  }

  function datasets(key) {
    return groups.map((group, i) => {
      const byPeriod = new Map(rows.filter((r) => r.group_label === group).map((r) => [r.period_start, r[key]]));
      const color = palette[i % palette.length];
      return {
        label: group,
        data: periods.map((p) => (byPeriod.has(p) ? byPeriod.get(p) : isSummable(key) ? 0 : null)),
        borderColor: color,
        backgroundColor: type === "area" ? color + "55" : color,
        fill: type === "area",
        spanGaps: true,
        tension: 0.2,
      };
    });
  }

  function pieData(key) {
    const values = groups.map((group) => {
      const own = rows.filter((r) => r.group_label === group && r[key] !== null).map((r) => Number(r[key]));
      if (!own.length) return 0;
      const total = own.reduce((a, b) => a + b, 0);
      // Averages and percentages have no meaningful sum: the pie shows each group's mean of its rows.
      return isSummable(key) ? total : Math.round((total / own.length) * 10) / 10;
    });
    return {
      labels: groups,
      datasets: [{ data: values, backgroundColor: groups.map((_, i) => palette[i % palette.length]) }],
    };
  }

  function draw() {
    const key = columnSelect.value;
    if (chart) chart.destroy();
    const config = type === "pie"
      ? { type: "pie", data: pieData(key) }
      : { type: type === "area" ? "line" : type, data: { labels: periods.map((p) => p.slice(0, 10)), datasets: datasets(key) } };
    config.options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            label: (item) => `${type === "pie" ? item.label : item.dataset.label}: ${formatted(key, item.raw)}`,
          },
        },
      },
    };
    if (type !== "pie") config.options.scales = { y: { beginAtZero: true, stacked: type === "area" } };
    chart = new window.Chart(canvas, config);
    section.dataset.chartDrawn = type;
  }

  section.querySelectorAll("[data-chart-type]").forEach((button) => {
    button.addEventListener("click", () => {
      type = button.dataset.chartType;
      section.querySelectorAll("[data-chart-type]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      draw();
    });
  });
  columnSelect.addEventListener("change", draw);
  draw();
})();
