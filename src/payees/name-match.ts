import { jaroWinkler } from '@skyra/jaro-winkler';

/**
 * How near a name given for a payee is to one holder's name, as the EU's
 * verification of payee grades it: the same name (`match`), a near one
 * (`close_match`: a typo, a missing middle name, an initial for a first
 * name) or another (`no_match`).
 */
export type NameMatch = 'match' | 'close_match' | 'no_match';

/** A holder's name as the bank has it. */
export interface HolderName {
  firstName: string;
  lastName: string;
}

/**
 * Two words this near by Jaro-Winkler are one word mistyped: a swapped,
 * missing, doubled or wrong letter ("Smith"/"Smyth" 0.89, "Jon"/"John" 0.93),
 * while other names stay apart ("Jane"/"John" 0.70, "Anna"/"Emma" 0.67).
 */
export const TYPO_SIMILARITY = 0.88;

/**
 * A typo changes a word's length by one letter at most. Jaro-Winkler alone
 * rewards a shared start: a cut-short or lengthened name ("Martin" for
 * Martinez, "Christine" for Christopher) would pass as near, and turn an
 * account number into its holder's full name.
 */
const MAX_TYPO_LENGTH_CHANGE = 1;

/**
 * Words per name beyond which only exact matches are looked for: the search
 * for a close match is exponential in them, and real names have far fewer.
 */
const MAX_WORDS = 12;

/** Letters that Unicode does not decompose into a base letter and a mark. */
const LETTERS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
};

/**
 * A name as it is compared: compatibility-decomposed (NFKD) without its
 * accents, lower-case, every run of punctuation, hyphens and spaces one
 * space. "Zoë  Ångström" -> "zoe angstrom", "O'Brien-Smith" -> "o brien smith".
 */
export function normalizeName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđðþıħ]/g, (c) => LETTERS[c])
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const words = (name: string): string[] => {
  const normal = normalizeName(name);
  return normal ? normal.split(' ') : [];
};

const sameWords = (a: string[], b: string[]): boolean =>
  a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');

/** A word of the holder's name, and whether it belongs to the first name. */
interface HolderWord {
  word: string;
  first: boolean;
}

/** Whether a given word can stand for a holder's word: the same, mistyped, or an initial. */
function standsFor(given: string, holder: HolderWord): 'exact' | 'near' | null {
  if (given === holder.word) return 'exact';
  // An initial stands for a first name only: "J Smith" is John Smith, "John S" is nobody.
  if (given.length === 1) return holder.first && holder.word.startsWith(given) ? 'near' : null;
  if (
    holder.word.length > 1 &&
    Math.abs(given.length - holder.word.length) <= MAX_TYPO_LENGTH_CHANGE &&
    jaroWinkler(given, holder.word) >= TYPO_SIMILARITY
  )
    return 'near';
  return null;
}

/**
 * Whether every given word stands for a different word of the holder's name,
 * at least one of the first name and one of the last name: holder words left
 * over are missing middle names. A search over which holder words are taken,
 * with the states already met remembered.
 */
function nearName(given: string[], holder: HolderWord[]): boolean {
  if (given.length === 0 || given.length > holder.length || holder.length > MAX_WORDS) return false;
  const seen = new Set<string>();
  const search = (i: number, taken: number, first: boolean, last: boolean): boolean => {
    if (i === given.length) return first && last;
    const state = `${i}/${taken}/${first}/${last}`;
    if (seen.has(state)) return false;
    seen.add(state);
    return holder.some(
      (word, j) =>
        (taken & (1 << j)) === 0 &&
        standsFor(given[i], word) !== null &&
        search(i + 1, taken | (1 << j), first || word.first, last || !word.first),
    );
  };
  return search(0, 0, false, false);
}

/** The holder's words one by one, and with each part of the name as one word ("o brien" -> "obrien"). */
function holderWordings(holder: HolderName): HolderWord[][] {
  const first = words(holder.firstName);
  const last = words(holder.lastName);
  const split = [
    ...first.map((word) => ({ word, first: true })),
    ...last.map((word) => ({ word, first: false })),
  ];
  const joined = [
    ...(first.length ? [{ word: first.join(''), first: true }] : []),
    ...(last.length ? [{ word: last.join(''), first: false }] : []),
  ];
  return [split, joined];
}

/** How near `given` is to the name of one holder. */
export function matchName(given: string, holder: HolderName): NameMatch {
  const g = words(given);
  if (g.length === 0) return 'no_match';
  const first = words(holder.firstName);
  const last = words(holder.lastName);
  // The same words in any order; or the same letters, words run together or apart
  // ("OBrien" for O'Brien, "Jean Luc" for Jean-Luc), first name first or last.
  if (sameWords(g, [...first, ...last])) return 'match';
  const compact = g.join('');
  if (compact === [...first, ...last].join('') || compact === [...last, ...first].join('')) {
    return 'match';
  }
  return holderWordings(holder).some((wording) => nearName(g, wording))
    ? 'close_match'
    : 'no_match';
}

/**
 * How near `given` is to any holder of an account (a joint account has
 * several): the best grade, with the holder that earned a close match.
 */
export function matchHolders(
  given: string,
  holders: readonly HolderName[],
): { result: NameMatch; holder: HolderName | null } {
  let close: HolderName | null = null;
  for (const holder of holders) {
    const result = matchName(given, holder);
    if (result === 'match') return { result, holder };
    if (result === 'close_match') close ??= holder;
  }
  return close ? { result: 'close_match', holder: close } : { result: 'no_match', holder: null };
}
