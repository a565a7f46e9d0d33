/**
 * Account numbers: a 10-digit serial from a database sequence followed by a
 * Luhn check digit, so a mistyped digit or most swapped neighbours are caught
 * before any lookup.
 */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function accountNumber(serial: bigint | number | string): string {
  const body = String(serial).padStart(10, '0');
  if (!/^\d{10}$/.test(body)) throw new Error(`account serial out of range: ${serial}`);
  return `${body}${luhnCheckDigit(body)}`;
}

/** True for a well-formed account number: 11 digits, the last the check digit of the rest. */
export function isAccountNumber(text: string): boolean {
  return /^\d{11}$/.test(text) && luhnCheckDigit(text.slice(0, 10)) === Number(text[10]);
}
