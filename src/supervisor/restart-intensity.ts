/**
 * OTP's restart intensity: a supervisor that restarts more than `intensity` times within
 * `period` milliseconds gives up. OTP keeps the restart times in a list that it filters on every
 * restart, so its cost grows with `intensity`; this keeps them in a ring buffer, oldest first, and
 * drops only the ones that left the window, so each restart costs O(1) amortised.
 */
export class RestartHistory {
  private times = new Float64Array(8);
  private head = 0;
  private length = 0;

  /** Restarts recorded and still inside the window at the last call. */
  get count(): number {
    return this.length;
  }

  /**
   * Records a restart at `now` and returns how many restarts lie within the window, this one
   * included. A restart at time t stays in the window while `now - t <= period` (OTP's rule).
   */
  record(now: number, period: number): number {
    this.forgetBefore(now - period);
    if (this.length === this.times.length) this.grow();
    this.times[(this.head + this.length) % this.times.length] = now;
    this.length += 1;
    return this.length;
  }

  /** Forgets every restart. */
  clear(): void {
    this.head = 0;
    this.length = 0;
  }

  private forgetBefore(threshold: number): void {
    while (this.length > 0 && this.times[this.head]! < threshold) {
      this.head = (this.head + 1) % this.times.length;
      this.length -= 1;
    }
  }

  private grow(): void {
    const grown = new Float64Array(this.times.length * 2);
    // Stryker disable next-line EqualityOperator: grow() runs only when full, and the one extra slot `<=` copies is the one record() writes next
    for (let index = 0; index < this.length; index += 1) {
      grown[index] = this.times[(this.head + index) % this.times.length]!;
    }
    this.times = grown;
    this.head = 0;
  }
}

/** True when `restarts` within the period is more than the supervisor's `intensity` allows. */
export function exceedsIntensity(restarts: number, intensity: number): boolean {
  return restarts > intensity;
}
