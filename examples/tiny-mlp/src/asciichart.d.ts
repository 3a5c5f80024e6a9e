// asciichart ships no type declarations; this is the part of its API the demo uses.
declare module 'asciichart' {
  /** Options of {@link plot}. */
  export interface PlotConfig {
    height?: number;
    offset?: number;
    padding?: string;
    format?: (x: number, i: number) => string;
    colors?: string[];
    min?: number;
    max?: number;
  }
  /** Renders one or more series as a multi-line string. */
  export function plot(series: number[] | number[][], config?: PlotConfig): string;
  const asciichart: { plot: typeof plot };
  export default asciichart;
}
