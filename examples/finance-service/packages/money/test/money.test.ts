import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { Money, MoneyError, currencyExponent } from '../src/index';

describe('Money construction', () => {
  it('parses decimal strings exactly', () => {
    assert.equal(Money.parse('1234.56', 'BDT').minorUnits, 123456);
    assert.equal(Money.parse('0.1', 'BDT').minorUnits, 10);
    assert.equal(Money.parse('-0.07', 'USD').minorUnits, -7);
    assert.equal(Money.parse('+12', 'JPY').minorUnits, 12);
    assert.equal(Money.parse('1.005', 'KWD').minorUnits, 1005);
  });

  it('refuses more fraction digits than the currency has', () => {
    assert.throws(() => Money.parse('1.005', 'BDT'), MoneyError);
    assert.throws(() => Money.parse('1.5', 'JPY'), /fraction digits/);
  });

  it('refuses text that is not a plain decimal', () => {
    for (const bad of ['', '1e3', '1,000.00', '12.', '.5', 'NaN', '0x10']) {
      assert.throws(() => Money.parse(bad, 'BDT'), MoneyError, bad);
    }
  });

  it('refuses unknown currencies and non-integer minor units', () => {
    assert.throws(() => Money.ofMinor(1, 'XXX'), /unknown currency/);
    assert.throws(() => Money.ofMinor(1.5, 'BDT'), /safe integer/);
    assert.throws(() => Money.ofMinor(Number.MAX_SAFE_INTEGER + 1, 'BDT'), MoneyError);
    assert.equal(currencyExponent('JPY'), 0);
  });
});

describe('Money arithmetic', () => {
  it('adds without the floating-point error of 0.1 + 0.2', () => {
    const sum = Money.parse('0.1', 'USD').add(Money.parse('0.2', 'USD'));
    assert.equal(sum.toDecimalString(), '0.30');
    assert.ok(sum.equals(Money.parse('0.3', 'USD')));
  });

  it('subtracts, negates and compares', () => {
    const a = Money.parse('10.00', 'BDT');
    const b = Money.parse('10.01', 'BDT');
    assert.equal(a.subtract(b).toDecimalString(), '-0.01');
    assert.equal(a.negate().toDecimalString(), '-10.00');
    assert.equal(a.compare(b), -1);
    assert.equal(b.compare(a), 1);
    assert.equal(a.compare(Money.ofMinor(1000, 'BDT')), 0);
    assert.ok(a.subtract(b).isNegative());
    assert.ok(a.subtract(a).isZero());
  });

  it('refuses to mix currencies', () => {
    assert.throws(() => Money.parse('1', 'BDT').add(Money.parse('1', 'USD')), /currency mismatch/);
  });

  it('detects overflow instead of losing precision', () => {
    const big = Money.ofMinor(Number.MAX_SAFE_INTEGER, 'BDT');
    assert.throws(() => big.add(Money.ofMinor(1, 'BDT')), /safe integer range/);
    assert.throws(() => big.multiply(2), /safe integer range/);
  });

  it('multiplies by decimal rates with banker\'s rounding by default', () => {
    assert.equal(Money.parse('100.00', 'BDT').multiply('0.15').toDecimalString(), '15.00');
    // 0.125 → 0.12 (half-even), 0.135 → 0.14
    assert.equal(Money.ofMinor(25, 'USD').multiply('0.5').minorUnits, 12);
    assert.equal(Money.ofMinor(27, 'USD').multiply('0.5').minorUnits, 14);
    assert.equal(Money.ofMinor(25, 'USD').multiply('0.5', 'half-up').minorUnits, 13);
    assert.equal(Money.ofMinor(29, 'USD').multiply('0.5', 'down').minorUnits, 14);
    assert.equal(Money.ofMinor(-25, 'USD').multiply('0.5', 'half-up').minorUnits, -13);
    assert.equal(Money.parse('19.99', 'USD').multiply(3).toDecimalString(), '59.97');
    assert.throws(() => Money.parse('1', 'USD').multiply(0.5), /decimal string/);
  });

  it('allocates without losing a minor unit', () => {
    const parts = Money.parse('100.00', 'BDT').allocate([1, 1, 1]);
    assert.deepEqual(parts.map((p) => p.minorUnits), [3334, 3333, 3333]);
    assert.equal(Money.sum(parts, 'BDT').minorUnits, 10000);
    const weighted = Money.ofMinor(-101, 'USD').allocate([70, 30, 0]);
    assert.deepEqual(weighted.map((p) => p.minorUnits), [-71, -30, 0]);
    assert.throws(() => Money.ofMinor(1, 'USD').allocate([]), MoneyError);
    assert.throws(() => Money.ofMinor(1, 'USD').allocate([0, 0]), /all be zero/);
  });

  it('sums a list, zero for an empty one', () => {
    assert.ok(Money.sum([], 'BDT').isZero());
    const total = Money.sum(['1.10', '2.20', '3.30'].map((t) => Money.parse(t, 'BDT')), 'BDT');
    assert.equal(total.toString(), '6.60 BDT');
  });
});

describe('Money formatting', () => {
  it('formats with the currency exponent', () => {
    assert.equal(Money.ofMinor(5, 'BDT').toDecimalString(), '0.05');
    assert.equal(Money.ofMinor(-5, 'KWD').toDecimalString(), '-0.005');
    assert.equal(Money.ofMinor(1500, 'JPY').toDecimalString(), '1500');
    assert.equal(Money.ofMinor(-0, 'BDT').toDecimalString(), '0.00');
  });

  it('serialises to JSON as a decimal string plus minor units', () => {
    assert.equal(
      JSON.stringify({ balance: Money.parse('1234.5', 'BDT') }),
      '{"balance":{"currency":"BDT","amount":"1234.50","minorUnits":123450}}',
    );
  });

  it('is immutable', () => {
    const m = Money.parse('1', 'BDT');
    assert.throws(() => {
      (m as unknown as { minorUnits: number }).minorUnits = 5;
    }, TypeError);
  });
});
