/**
 * Wall-clock phases of one run, for `npm run bench` (docs/performance.md). Times are taken with
 * performance.now(), which counts from the start of the process, so the first phase includes Node's own
 * start-up and the loading of every module before the program's first line.
 */
export class PhaseClock {
  private last = 0;
  readonly phases: { name: string; ms: number }[] = [];

  /** Ends the current phase under this name and starts the next one. */
  mark(name: string): void {
    const now = performance.now();
    this.phases.push({ name, ms: now - this.last });
    this.last = now;
  }
}

/** Environment variable that makes `npm run synth` print its phases as one JSON line on stderr. */
export const TIMINGS_ENV = 'SYNTH_TIMINGS';
/** Prefix of that line, so tools can find it among the notices. */
export const TIMINGS_PREFIX = 'synth-timings: ';
