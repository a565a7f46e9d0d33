import { parse } from 'lossless-json';

/** Bodies nested deeper than this are refused before anything walks them. */
export const MAX_JSON_DEPTH = 32;

/** What a JSON text holds that JSON.parse alone would hide or choke on. */
export interface JsonShape {
  /** A number in exponent notation (1e3, 2.5E-1): no field of this API takes one. */
  exponent: boolean;
  /** A number with more than two decimals, which a double would round (5.00000000000000000001). */
  longFraction: boolean;
  /** The deepest nesting of objects and arrays. */
  depth: number;
}

/**
 * Reads a JSON text once, outside its strings: exponents, long fractions and
 * nesting depth. An e/E right after a digit or a point can only be an
 * exponent (true and false have none).
 */
export function inspectJson(json: string): JsonShape {
  const shape: JsonShape = { exponent: false, longFraction: false, depth: 0 };
  let inString = false;
  let depth = 0;
  let fractionDigits = -1; // -1: not in the fraction of a number
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (fractionDigits >= 0) {
      if (isDigit(c)) {
        if (++fractionDigits > 2) shape.longFraction = true;
        continue;
      }
      fractionDigits = -1;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) shape.depth = Math.max(shape.depth, ++depth);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
    else if (c === 0x2e /* . */ && i > 0 && isDigit(json.charCodeAt(i - 1))) fractionDigits = 0;
    else if ((c === 0x65 || c === 0x45) && i > 0) {
      const p = json.charCodeAt(i - 1);
      if (isDigit(p) || p === 0x2e) shape.exponent = true;
    }
  }
  return shape;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** A JSON number kept as written, because a double would not hold it exactly. */
export class NumberText {
  constructor(readonly text: string) {}
}

/**
 * JSON.parse, except that a number with more than two decimals stays its
 * text (NumberText): the field it was given for can then refuse it by name.
 */
export function parseKeepingLongFractions(json: string): unknown {
  return parse(json, null, (text) => (/\.\d{3}/.test(text) ? new NumberText(text) : Number(text)));
}
