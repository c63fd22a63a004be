/**
 * Typed errors. Every validation error names the offending field, so that a
 * notebook user sees e.g. `model.D must be a positive integer (got -3)`.
 */
export class LimitdynError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input: `field` is the dotted path of the offending value (e.g. `model.D`). */
export class ValidationError extends LimitdynError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field} ${message}`);
    this.field = field;
  }
}

/** A non-finite loss or state during a run: names the step and the quantity. */
export class DivergenceError extends LimitdynError {
  readonly step: number;
  readonly quantity: string;
  /** What was found (e.g. "loss = Infinity"); "" when nothing more is known. */
  readonly detail: string;
  constructor(step: number, quantity: string, detail = "") {
    super(`divergence at step ${step}: ${quantity} is not finite${detail ? ` (${detail})` : ""}`);
    this.step = step;
    this.quantity = quantity;
    this.detail = detail;
  }
}
