// A channel's attempts over time (succeeded and failed per step, bars) and their latency
// (mean and p95 bucket, lines on a second axis), drawn by uPlot on a canvas.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  at: number[];
  succeeded: number[];
  failed: number[];
  latency: (number | null)[];
  p95: (number | null)[];
}

export function Chart({ series }: { series: Series }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // Side by side in each step: succeeded on the left half, failed on the right.
    const left = uPlot.paths.bars!({ size: [0.45, 14], align: -1 });
    const right = uPlot.paths.bars!({ size: [0.45, 14], align: 1 });
    const width = () => Math.max(280, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 260,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, n: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max)] }, ms: { auto: true, range: (_u, _min, max) => [0, Math.max(10, max ?? 10)] } },
        axes: [
          {},
          { scale: "n", label: "attempts", size: 50 },
          { scale: "ms", side: 1, label: "latency (ms)", grid: { show: false }, size: 60 },
        ],
        series: [
          {},
          { label: "succeeded", scale: "n", stroke: "#1b7f3b", fill: "rgba(27,127,59,0.55)", paths: left, points: { show: false } },
          { label: "failed", scale: "n", stroke: "#b42318", fill: "rgba(180,35,24,0.6)", paths: right, points: { show: false } },
          { label: "mean latency", scale: "ms", stroke: "#1d4ed8", width: 2, spanGaps: true, points: { show: true, size: 6, fill: "#1d4ed8" } },
          { label: "p95 ≤", scale: "ms", stroke: "#7c3aed", width: 1, dash: [4, 4], spanGaps: true, points: { show: true, size: 5 } },
        ],
      },
      [series.at, series.succeeded, series.failed, series.latency, series.p95] as uPlot.AlignedData,
      el,
    );
    const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 260 }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [series]);
  return <div class="chart" ref={box} role="img" aria-label="Attempts over time: succeeded and failed per step, and latency" data-testid="attempts-chart" />;
}
