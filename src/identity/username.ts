/**
 * The one form of a username that lookups, uniqueness and login throttling
 * compare: Unicode NFKC, then A-Z lowered to a-z and nothing else, whatever
 * the locale of the service or of the database. Usernames are ASCII
 * (USERNAME_PATTERN), so a look-alike spelled with other letters (`İ`, `ı`)
 * is another name, which no account has, and cannot dodge the throttle of
 * the real one. SQL compares it with USERNAME_KEY_SQL of the stored name.
 */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** SQL: the usernameKey of a stored (ASCII) username, in any database locale. */
export const USERNAME_KEY_SQL = (column: string) => `lower(${column} COLLATE "C")`;
