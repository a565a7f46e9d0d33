/**
 * True when the JSON text holds a number in exponent notation (1e3, 2.5E-1).
 * No field of this API takes one, and an amount written 1e3 must be refused,
 * which JSON.parse alone cannot tell from 1000. Outside strings, an e/E right
 * after a digit or a point can only be an exponent (true/false never have one).
 */
export function hasExponentNumber(json: string): boolean {
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if ((c === 0x65 || c === 0x45) && i > 0) {
      const p = json.charCodeAt(i - 1);
      if ((p >= 0x30 && p <= 0x39) || p === 0x2e) return true;
    }
  }
  return false;
}
