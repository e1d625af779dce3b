// The stacked daily-spend bar chart (Chart.js, only the bar pieces), coloured from the theme's
// --vscode-charts-* variables, with an HTML legend built from the chart's own datasets.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip, type ChartDataset, type TooltipItem } from 'chart.js';
import type { DashboardModel } from './protocol';
import { h } from './dom';
import * as fmt from './format';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** Theme variables per colour slot; the legend's CSS uses the same slots (.swatch.c0 …). */
const PALETTE = [
  '--vscode-charts-blue',
  '--vscode-charts-orange',
  '--vscode-charts-green',
  '--vscode-charts-purple',
  '--vscode-charts-yellow',
  '--vscode-charts-red',
  '--vscode-terminal-ansiCyan',
  '--vscode-terminal-ansiMagenta',
];

/** Stable colour slot per provider: its place in the filter's provider list. */
export function colorSlot(provider: string, providerIds: readonly string[]): number {
  const i = providerIds.indexOf(provider);
  return (i < 0 ? providerIds.length : i) % PALETTE.length;
}

function cssVar(name: string, fallbackVar?: string): string {
  const s = getComputedStyle(document.documentElement);
  const v = s.getPropertyValue(name).trim() || (fallbackVar ? s.getPropertyValue(fallbackVar).trim() : '');
  if (v) return v;
  // Outside VS Code (no theme variables), fall back to the page's own text colour.
  return getComputedStyle(document.body).color;
}

export interface SpendChartOptions {
  canvas: HTMLCanvasElement;
  legend: HTMLElement;
  providerName: (id: string) => string;
  onToggle: (hidden: string[]) => void;
}

export class SpendChart {
  private readonly chart: Chart<'bar', number[], string>;
  private hidden = new Set<string>();
  private model: DashboardModel | undefined;

  constructor(private readonly opts: SpendChartOptions) {
    const reduceMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    this.chart = new Chart(opts.canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 250 },
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { stacked: true, beginAtZero: true, ticks: { callback: (v) => fmt.usd(Number(v)), maxTicksLimit: 6 }, border: { display: false } },
        },
        plugins: {
          tooltip: {
            filter: (item) => (item.raw as number) > 0,
            itemSort: (a, b) => (b.raw as number) - (a.raw as number),
            callbacks: {
              title: (items) => (items[0] && this.model ? fmt.dayLong(this.model.chart.days[items[0].dataIndex]) : ''),
              label: (item: TooltipItem<'bar'>) => ` ${item.dataset.label ?? ''}: ${fmt.usd(item.raw as number)}`,
              footer: (items) => `Total: ${fmt.usd(items.reduce((s, i) => s + (i.raw as number), 0))}`,
            },
          },
        },
      },
    });
    this.retheme();
  }

  update(model: DashboardModel, hidden: readonly string[]): void {
    this.model = model;
    this.hidden = new Set(hidden);
    const datasets: ChartDataset<'bar', number[]>[] = model.chart.series.map((s) => ({
      label: this.opts.providerName(s.provider),
      data: s.costUsd,
      hidden: this.hidden.has(s.provider),
      stack: 'spend',
      borderRadius: 2,
      maxBarThickness: 28,
      // Chart.js keeps extra dataset fields; the legend reads the provider id back from here.
      provider: s.provider,
    })) as ChartDataset<'bar', number[]>[];
    this.chart.data.labels = model.chart.days.map(fmt.day);
    this.chart.data.datasets = datasets;
    this.applyColors();
    this.chart.update();
    this.renderLegend();
  }

  /** Re-reads the theme variables (VS Code changes them in place when the theme changes). */
  retheme(): void {
    const fg = cssVar('--vscode-charts-foreground', '--vscode-foreground');
    const lines = cssVar('--vscode-charts-lines', '--vscode-widget-border');
    const family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = fg;
    Chart.defaults.font.family = family;
    const y = this.chart.options.scales?.y;
    if (y) {
      y.grid = { ...y.grid, color: lines };
      y.ticks = { ...y.ticks, color: fg };
    }
    const x = this.chart.options.scales?.x;
    if (x) x.ticks = { ...x.ticks, color: fg };
    const tooltip = this.chart.options.plugins?.tooltip;
    if (tooltip) {
      tooltip.backgroundColor = cssVar('--vscode-editorHoverWidget-background', '--vscode-editorWidget-background');
      tooltip.titleColor = cssVar('--vscode-editorHoverWidget-foreground', '--vscode-foreground');
      tooltip.bodyColor = tooltip.titleColor;
      tooltip.footerColor = tooltip.titleColor;
      tooltip.borderColor = cssVar('--vscode-editorHoverWidget-border', '--vscode-widget-border');
      tooltip.borderWidth = 1;
    }
    this.applyColors();
    // Not update('none'): in that mode Chart.js keeps the bars' shared options (their old colours).
    this.chart.update();
  }

  /** The datasets the chart draws: provider id, label, and per-day values (what the legend shows). */
  datasets(): { provider: string; label: string; data: number[]; hidden: boolean }[] {
    return this.chart.data.datasets.map((d) => ({
      provider: (d as unknown as { provider: string }).provider,
      label: d.label ?? '',
      data: d.data.slice(),
      hidden: d.hidden === true,
    }));
  }

  destroy(): void {
    this.chart.destroy();
  }

  private applyColors(): void {
    const ids = this.model?.providerIds ?? [];
    const used: Record<string, string> = {};
    for (const d of this.chart.data.datasets) {
      const provider = (d as unknown as { provider: string }).provider;
      const color = cssVar(PALETTE[colorSlot(provider, ids)]);
      d.backgroundColor = color;
      d.hoverBackgroundColor = color;
      used[provider] = color;
    }
    // What the bars are painted with, for tests that follow a theme change.
    this.opts.canvas.dataset.barColors = JSON.stringify(used);
  }

  private renderLegend(): void {
    const ids = this.model?.providerIds ?? [];
    const items = this.datasets().map((d) => {
      const total = d.data.reduce((a, b) => a + b, 0);
      const button = h(
        'button',
        {
          type: 'button',
          class: 'legend-item',
          'aria-pressed': String(!d.hidden),
          'data-provider': d.provider,
          'data-focus-id': `legend-${d.provider}`,
          title: d.hidden ? `Show ${d.label} in the chart` : `Hide ${d.label} from the chart`,
        },
        h('span', { class: `swatch c${colorSlot(d.provider, ids)}`, 'aria-hidden': 'true' }),
        h('span', { class: 'legend-label' }, d.label),
        h('span', { class: 'legend-total', 'data-value': total }, fmt.usd(total)),
      );
      button.addEventListener('click', () => {
        if (this.hidden.has(d.provider)) this.hidden.delete(d.provider);
        else this.hidden.add(d.provider);
        this.opts.onToggle([...this.hidden]);
        if (this.model) this.update(this.model, [...this.hidden]);
        (this.opts.legend.querySelector(`[data-provider="${CSS.escape(d.provider)}"]`) as HTMLElement | null)?.focus();
      });
      return h('li', null, button);
    });
    this.opts.legend.replaceChildren(...items);
  }
}
