/**
 * @file Stop strings over streamed text. A row ends at the first occurrence of any stop string in its
 * generated text; the text is cut just before it. While streaming, the longest tail of the text that
 * could still begin a stop string is held back (as vLLM's detokenizer holds back up to the longest
 * stop string), so a stream never shows text that the final result drops.
 */

export class StopStrings {
  private full = '';
  private emitted = 0;
  private readonly longest: number;

  constructor(readonly stops: readonly string[]) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /** The text so far (cut at the stop string once one matched). */
  get text(): string {
    return this.full;
  }

  /**
   * Appends `delta`; returns the text that is now safe to show and, if a stop string matched, which
   * (the returned text then ends just before it, and nothing follows).
   */
  push(delta: string): { text: string; stop?: string } {
    const from = Math.max(0, this.full.length - this.longest + 1);
    this.full += delta;
    let at = -1;
    let stop: string | undefined;
    for (const s of this.stops) {
      const i = this.full.indexOf(s, from);
      if (i >= 0 && (at < 0 || i < at)) {
        at = i;
        stop = s;
      }
    }
    if (stop !== undefined) {
      this.full = this.full.slice(0, at);
      return { text: this.take(this.full.length), stop };
    }
    return { text: this.take(this.full.length - this.heldBack()) };
  }

  /** The rest of the text, held back no longer (the row ended for another reason). */
  finish(): string {
    return this.take(this.full.length);
  }

  /** Length of the longest tail of the text that is a proper prefix of a stop string. */
  private heldBack(): number {
    for (let k = Math.min(this.longest - 1, this.full.length - this.emitted); k > 0; k--) {
      const tail = this.full.slice(this.full.length - k);
      if (this.stops.some((s) => s.length > k && s.startsWith(tail))) return k;
    }
    return 0;
  }

  private take(end: number): string {
    if (end <= this.emitted) return '';
    const out = this.full.slice(this.emitted, end);
    this.emitted = end;
    return out;
  }
}
