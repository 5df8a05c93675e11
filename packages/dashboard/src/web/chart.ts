/// <reference lib="dom" />
// One SLO's chart: the measured value of each check round against the limit, the breach
// marked by a line and a word. The figure's caption says the same in text.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface SloSeriesWire {
  name: string;
  max: number;
  onBreach: string;
  points: [number, number | null, string][];
  breachAt: number | null;
}

/** The watch window the chart spans (ms since the epoch). */
export interface WindowWire {
  startedAt: number;
  deadline: number;
}

const charts = new Map<string, uPlot>();
const breaches = new Map<string, number | null>();

function caption(s: SloSeriesWire): string {
  const last = s.points.at(-1);
  const over = s.points.filter((p) => p[1] !== null && (p[1] as number) > s.max).length;
  const value = last?.[1];
  return `${s.name}: ${s.points.length} check(s), last ${value === null || value === undefined ? "no value" : Number(value.toPrecision(4))}, limit ${s.max}, ${over} over the limit${
    s.breachAt === null ? "" : `, BREACHED at ${new Date(s.breachAt).toLocaleTimeString()}`
  }`;
}

/** Draws (or redraws) the chart of one SLO inside `host`. */
export function sloChart(host: HTMLElement, s: SloSeriesWire, window: WindowWire | null): void {
  let fig = host.querySelector<HTMLElement>(`figure[data-slo="${CSS.escape(s.name)}"]`);
  if (fig === null) {
    fig = document.createElement("figure");
    fig.dataset.slo = s.name;
    fig.className = "slo";
    fig.innerHTML = `<div class="plot" role="img"></div><figcaption></figcaption>`;
    host.append(fig);
  }
  fig.dataset.breached = String(s.breachAt !== null);
  const text = caption(s);
  (fig.querySelector("figcaption") as HTMLElement).textContent = text;
  const plotHost = fig.querySelector(".plot") as HTMLElement;
  plotHost.setAttribute("aria-label", text);
  // The window's start and end frame the rounds, so the limit is a line even before the
  // second round.
  const first = Math.min(window?.startedAt ?? Infinity, s.points[0]?.[0] ?? Infinity);
  const last = Math.max(window?.deadline ?? 0, s.points.at(-1)?.[0] ?? 0, s.breachAt ?? 0);
  const rows: [number, number | null][] = s.points.map((p) => [p[0], p[1]]);
  if (Number.isFinite(first) && (rows[0]?.[0] ?? Infinity) > first) rows.unshift([first, null]);
  if (last > (rows.at(-1)?.[0] ?? Infinity)) rows.push([last, null]);
  const xs = rows.map((r) => r[0] / 1000);
  const data: uPlot.AlignedData = [xs, rows.map((r) => r[1]), xs.map(() => s.max)];
  const key = s.name;
  breaches.set(key, s.breachAt);
  const old = charts.get(key);
  if (old?.root.isConnected) {
    old.setData(data);
    old.redraw();
    return;
  }
  const breachAt = () => breaches.get(key) ?? null;
  const chart = new uPlot(
    {
      width: Math.min(720, Math.max(320, host.clientWidth - 20)),
      height: 220,
      scales: { x: { time: true } },
      series: [
        {},
        { label: "measured", stroke: "#1f5fbf", width: 2, points: { show: true, size: 9 } },
        {
          label: `limit ${s.max}`,
          stroke: "#b00020",
          width: 1.5,
          dash: [6, 4],
          points: { show: false },
        },
      ],
      hooks: {
        // Under the series: the measured points stay visible on the breach line.
        drawAxes: [
          (u) => {
            const at = breachAt();
            if (at === null) return;
            const x = u.valToPos(at / 1000, "x", true);
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = "#b00020";
            ctx.lineWidth = 2;
            ctx.setLineDash([2, 2]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillStyle = "#b00020";
            ctx.font = `bold ${12 * devicePixelRatio}px sans-serif`;
            ctx.fillText("✖ BREACH", x + 4, u.bbox.top + 14 * devicePixelRatio);
            ctx.restore();
          },
        ],
      },
    },
    data,
    plotHost,
  );
  charts.set(key, chart);
}
