/**
 * Money held as an integer count of the currency's minor units (paisa, cents, fils).
 *
 * No floating-point number ever carries an amount: amounts come in as integers of
 * minor units or as decimal strings ("1234.56"), arithmetic is integer arithmetic
 * (BigInt where a product or quotient could leave the safe range), and amounts go
 * out as decimal strings. Every result is checked to stay a safe integer.
 */

/** ISO 4217 minor-unit exponents for the currencies the service handles. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  BDT: 2,
  USD: 2,
  EUR: 2,
  GBP: 2,
  INR: 2,
  JPY: 0,
  KWD: 3,
});

export class MoneyError extends Error {
  override name = 'MoneyError';
}

/** Rounding applied when a product or a quotient falls between two minor units. */
export type Rounding = 'half-even' | 'half-up' | 'down';

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

export function currencyExponent(currency: string): number {
  const exponent = CURRENCY_EXPONENTS[currency];
  if (exponent === undefined) {
    throw new MoneyError(`unknown currency "${currency}"`);
  }
  return exponent;
}

function checkSafe(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new MoneyError(`${what} is out of the safe integer range`);
  }
  return Number(value);
}

/** Integer division of a by b (b > 0) with the given rounding. */
function divRound(a: bigint, b: bigint, rounding: Rounding): bigint {
  const negative = a < 0n;
  const abs = negative ? -a : a;
  let q = abs / b;
  const r = abs % b;
  if (r !== 0n && rounding !== 'down') {
    const twice = r * 2n;
    if (twice > b || (twice === b && (rounding === 'half-up' || q % 2n === 1n))) {
      q += 1n;
    }
  }
  return negative ? -q : q;
}

/** Parses a decimal string into an exact [integer, scale] pair: "-1.25" → [-125n, 2]. */
function parseDecimal(text: string): [bigint, number] {
  const match = DECIMAL.exec(text.trim());
  if (!match) {
    throw new MoneyError(`"${text}" is not a decimal number`);
  }
  const [, sign, whole, fraction = ''] = match;
  const digits = BigInt(whole + fraction);
  return [sign === '-' ? -digits : digits, fraction.length];
}

export interface MoneyJSON {
  currency: string;
  /** Decimal string with exactly the currency's number of fraction digits. */
  amount: string;
  /** The same amount as an integer of minor units. */
  minorUnits: number;
}

export class Money {
  private constructor(
    readonly minorUnits: number,
    readonly currency: string,
  ) {
    Object.freeze(this);
  }

  /** From an integer count of minor units: Money.ofMinor(12345, 'BDT') is 123.45 BDT. */
  static ofMinor(minorUnits: number | bigint, currency: string): Money {
    currencyExponent(currency);
    if (typeof minorUnits === 'number' && !Number.isSafeInteger(minorUnits)) {
      throw new MoneyError(`minor units must be a safe integer, got ${minorUnits}`);
    }
    const value = typeof minorUnits === 'bigint' ? checkSafe(minorUnits, 'amount') : minorUnits;
    return new Money(value === 0 ? 0 : value, currency);
  }

  /**
   * From a decimal string: Money.parse('1234.5', 'BDT') is 123450 minor units.
   * More fraction digits than the currency has are refused, never rounded silently.
   */
  static parse(text: string, currency: string): Money {
    const exponent = currencyExponent(currency);
    const [digits, scale] = parseDecimal(text);
    if (scale > exponent) {
      throw new MoneyError(`"${text}" has more than ${exponent} fraction digits for ${currency}`);
    }
    return Money.ofMinor(digits * 10n ** BigInt(exponent - scale), currency);
  }

  static zero(currency: string): Money {
    return Money.ofMinor(0, currency);
  }

  /** Sum of a list of amounts of one currency (zero for an empty list). */
  static sum(amounts: readonly Money[], currency: string): Money {
    return amounts.reduce((total, m) => total.add(m), Money.zero(currency));
  }

  get exponent(): number {
    return currencyExponent(this.currency);
  }

  private same(other: Money): void {
    if (other.currency !== this.currency) {
      throw new MoneyError(`currency mismatch: ${this.currency} and ${other.currency}`);
    }
  }

  add(other: Money): Money {
    this.same(other);
    return Money.ofMinor(BigInt(this.minorUnits) + BigInt(other.minorUnits), this.currency);
  }

  subtract(other: Money): Money {
    this.same(other);
    return Money.ofMinor(BigInt(this.minorUnits) - BigInt(other.minorUnits), this.currency);
  }

  negate(): Money {
    return Money.ofMinor(-this.minorUnits, this.currency);
  }

  /**
   * Multiplies by an integer or by a decimal factor given as a string ("0.15" for a
   * 15 % rate), rounding the result to whole minor units.
   */
  multiply(factor: number | string, rounding: Rounding = 'half-even'): Money {
    let digits: bigint;
    let scale: number;
    if (typeof factor === 'number') {
      if (!Number.isSafeInteger(factor)) {
        throw new MoneyError('a numeric factor must be an integer; pass fractions as a decimal string');
      }
      [digits, scale] = [BigInt(factor), 0];
    } else {
      [digits, scale] = parseDecimal(factor);
    }
    const product = divRound(BigInt(this.minorUnits) * digits, 10n ** BigInt(scale), rounding);
    return Money.ofMinor(product, this.currency);
  }

  /**
   * Splits the amount by integer ratios without losing a minor unit: the remainder
   * goes one unit at a time to the first shares. allocate([1, 1, 1]) of 100 gives
   * 34, 33, 33.
   */
  allocate(ratios: readonly number[]): Money[] {
    if (ratios.length === 0 || ratios.some((r) => !Number.isSafeInteger(r) || r < 0)) {
      throw new MoneyError('ratios must be a non-empty list of non-negative integers');
    }
    const total = ratios.reduce((a, b) => a + BigInt(b), 0n);
    if (total === 0n) {
      throw new MoneyError('ratios must not all be zero');
    }
    const amount = BigInt(this.minorUnits);
    const shares = ratios.map((r) => (amount * BigInt(r)) / total);
    let remainder = amount - shares.reduce((a, b) => a + b, 0n);
    const step = remainder < 0n ? -1n : 1n;
    for (let i = 0; remainder !== 0n; i = (i + 1) % shares.length) {
      if (ratios[i] === 0) continue;
      shares[i] += step;
      remainder -= step;
    }
    return shares.map((s) => Money.ofMinor(s, this.currency));
  }

  compare(other: Money): -1 | 0 | 1 {
    this.same(other);
    return this.minorUnits < other.minorUnits ? -1 : this.minorUnits > other.minorUnits ? 1 : 0;
  }

  equals(other: Money): boolean {
    return other.currency === this.currency && other.minorUnits === this.minorUnits;
  }

  isZero(): boolean {
    return this.minorUnits === 0;
  }

  isNegative(): boolean {
    return this.minorUnits < 0;
  }

  /** "1234.50": the exact decimal, always with the currency's number of fraction digits. */
  toDecimalString(): string {
    const exponent = this.exponent;
    const negative = this.minorUnits < 0;
    const digits = Math.abs(this.minorUnits).toString().padStart(exponent + 1, '0');
    const whole = digits.slice(0, digits.length - exponent);
    const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
    return `${negative ? '-' : ''}${whole}${fraction}`;
  }

  toString(): string {
    return `${this.toDecimalString()} ${this.currency}`;
  }

  toJSON(): MoneyJSON {
    return { currency: this.currency, amount: this.toDecimalString(), minorUnits: this.minorUnits };
  }
}
