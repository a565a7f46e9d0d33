import { HolderName, matchHolders, matchName, NameMatch, normalizeName } from './name-match';

const h = (firstName: string, lastName: string): HolderName => ({ firstName, lastName });

describe('normalizeName', () => {
  it.each([
    ['Zoë  Ångström', 'zoe angstrom'],
    ['José María Núñez', 'jose maria nunez'],
    ['Nguyễn Văn An', 'nguyen van an'],
    ['Đặng Thị Lan', 'dang thi lan'],
    ["O'Brien-Smith", 'o brien smith'],
    ['  Jean--Luc,  Picard. ', 'jean luc picard'],
    ['Søren Kierkegaard', 'soren kierkegaard'],
    ['Straße', 'strasse'],
    ['ＡＤＡ', 'ada'],
    ['!!!', ''],
  ])('%j -> %j', (name, normal) => {
    expect(normalizeName(name)).toBe(normal);
  });
});

describe('matchName', () => {
  // [given name, holder's first name, holder's last name, expected grade]
  const cases: Array<[string, string, string, NameMatch]> = [
    // The same name, however it is written.
    ['Ada Lovelace', 'Ada', 'Lovelace', 'match'],
    ['ada lovelace', 'Ada', 'Lovelace', 'match'],
    ['LOVELACE ADA', 'Ada', 'Lovelace', 'match'],
    ['  Ada   Lovelace ', 'Ada', 'Lovelace', 'match'],
    ['Lovelace, Ada.', 'Ada', 'Lovelace', 'match'],
    ['Zoe Angstrom', 'Zoë', 'Ångström', 'match'],
    ['Ångström Zoë', 'Zoë', 'Ångström', 'match'],
    ['Jose Maria Nunez', 'José María', 'Núñez', 'match'],
    ['Nunez Jose Maria', 'José María', 'Núñez', 'match'],
    ['Nguyen Van An', 'Văn An', 'Nguyễn', 'match'],
    ['An Nguyen Van', 'An', 'Nguyễn Văn', 'match'],
    ['Olafur Ragnar', 'Ólafur', 'Ragnar', 'match'],
    ['Sean OBrien', 'Seán', "O'Brien", 'match'],
    ["Sean O'Brien", 'Seán', "O'Brien", 'match'],
    ['sean o brien', 'Seán', "O'Brien", 'match'],
    ['Jean Luc Picard', 'Jean-Luc', 'Picard', 'match'],
    ['JeanLuc Picard', 'Jean-Luc', 'Picard', 'match'],
    ['Picard Jean-Luc', 'Jean-Luc', 'Picard', 'match'],
    ['Soren Kierkegaard', 'Søren', 'Kierkegaard', 'match'],
    ['Dang Thi Lan', 'Thị Lan', 'Đặng', 'match'],
    // Near: a typo, a missing middle name, an initial for a first name.
    ['Ada Lovelase', 'Ada', 'Lovelace', 'close_match'],
    ['Jon Smith', 'John', 'Smith', 'close_match'],
    ['John Smyth', 'John', 'Smith', 'close_match'],
    ['Jonh Smith', 'John', 'Smith', 'close_match'],
    ['Jose Nunez', 'José María', 'Núñez', 'close_match'],
    ['Maria Nunez', 'José María', 'Núñez', 'close_match'],
    ['J. Nunez', 'José María', 'Núñez', 'close_match'],
    ['J M Nunez', 'José María', 'Núñez', 'close_match'],
    ['A. Lovelace', 'Ada', 'Lovelace', 'close_match'],
    ['Lovelace A', 'Ada', 'Lovelace', 'close_match'],
    ['An Nguyen', 'Văn An', 'Nguyễn', 'close_match'],
    ['Olafur Ragnar Grimsson', 'Ólafur Ragnar', 'Grímsson', 'match'],
    ['Olafur Grimson', 'Ólafur Ragnar', 'Grímsson', 'close_match'],
    ['Sean OBrian', 'Seán', "O'Brien", 'close_match'],
    ['J-L Picard', 'Jean-Luc', 'Picard', 'close_match'],
    ['Jean Picard', 'Jean-Luc', 'Picard', 'close_match'],
    // Another name: a different first name, a surname alone, an initial for the surname, a word more.
    ['Jane Smith', 'John', 'Smith', 'no_match'],
    ['John Martin', 'John', 'Martinez', 'no_match'],
    ['A Mart', 'Adam', 'Martinez', 'no_match'],
    ['Christine Smith', 'Christopher', 'Smith', 'no_match'],
    ['John Smithson', 'John', 'Smith', 'no_match'],
    ['Mary Lovelace', 'Ada', 'Lovelace', 'no_match'],
    ['Lovelace', 'Ada', 'Lovelace', 'no_match'],
    ['Ada', 'Ada', 'Lovelace', 'no_match'],
    ['Ada L', 'Ada', 'Lovelace', 'no_match'],
    ['A L', 'Ada', 'Lovelace', 'no_match'],
    ['Grace Hopper', 'Ada', 'Lovelace', 'no_match'],
    ['Ada Byron Lovelace', 'Ada', 'Lovelace', 'no_match'],
    ['Zoe Angstrom-Berg', 'Zoë', 'Ångström', 'no_match'],
    ['Charles Babbage', 'Ada', 'Lovelace', 'no_match'],
    ['Nguyen Van Binh', 'Văn An', 'Nguyễn', 'no_match'],
    ['Li Wu', 'Lu', 'Wu', 'no_match'],
    ['...', 'Ada', 'Lovelace', 'no_match'],
    ['', 'Ada', 'Lovelace', 'no_match'],
  ];

  it.each(cases)('%j for %s %s: %s', (given, first, last, expected) => {
    expect(matchName(given, h(first, last))).toBe(expected);
  });

  it('holds at least 30 pairs, with every grade', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const grade of ['match', 'close_match', 'no_match'])
      expect(cases.some((c) => c[3] === grade)).toBe(true);
  });

  it('answers a name of many words without trying every pairing', () => {
    const many = Array.from({ length: 40 }, () => 'a').join(' ');
    expect(matchName(many, h(many, many))).toBe('no_match');
    expect(matchName('b '.repeat(11), h('b '.repeat(6), 'b '.repeat(6)))).toBe('close_match');
  });
});

describe('matchHolders (joint accounts)', () => {
  const joint = [h('Ada', 'Lovelace'), h('Charles', 'Babbage')];

  it.each([
    ['Ada Lovelace', 'match', null],
    ['Charles Babbage', 'match', null],
    ['babbage charles', 'match', null],
    ['Charles Babage', 'close_match', 'Charles Babbage'],
    ['C. Babbage', 'close_match', 'Charles Babbage'],
    ['A Lovelace', 'close_match', 'Ada Lovelace'],
    ['Grace Hopper', 'no_match', null],
    ['Ada Babbage', 'no_match', null],
  ] as const)('%j: %s', (given, result, suggested) => {
    const found = matchHolders(given, joint);
    expect(found.result).toBe(result);
    if (suggested) {
      expect(`${found.holder?.firstName} ${found.holder?.lastName}`).toBe(suggested);
    }
    if (result === 'no_match') expect(found.holder).toBeNull();
  });

  it('prefers a match with one holder over a close match with another', () => {
    const found = matchHolders('Ann Smith', [h('Anne', 'Smith'), h('Ann', 'Smith')]);
    expect(found).toEqual({ result: 'match', holder: h('Ann', 'Smith') });
  });

  it('has nothing to say of an account without holders', () => {
    expect(matchHolders('Ada Lovelace', [])).toEqual({ result: 'no_match', holder: null });
  });
});
