const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses a configuration duration: whole seconds ("900") or a whole number
 * with one unit ("15m", "12h", "15d"). Returns seconds, or null when the text
 * is not a duration.
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match) return null;
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] || 's'];
  return Number.isSafeInteger(seconds) ? seconds : null;
}
