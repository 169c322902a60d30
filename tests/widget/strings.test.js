// The widget's words: every language says everything English says, in the same shape.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./parts.js');

const { STATUSES } = load(['model.js'], ['STATUSES']);
const { STRINGS } = load(['strings.js'], ['STRINGS']);
const { en, ...others } = STRINGS;

test('English and Russian are there', () => {
  assert.deepEqual(Object.keys(STRINGS).sort(), ['en', 'ru']);
});

for (const [lang, words] of Object.entries(others)) {
  test(`${lang} has the keys of en, each of the same type`, () => {
    assert.deepEqual(Object.keys(words).sort(), Object.keys(en).sort());
    for (const [key, value] of Object.entries(en)) assert.equal(typeof words[key], typeof value, key);
  });
}

for (const [lang, words] of Object.entries(STRINGS)) {
  test(`${lang} names every status, and kinds in words`, () => {
    assert.deepEqual(Object.keys(words.status).sort(), [...STATUSES].sort());
    for (const value of [...Object.values(words.status), ...Object.values(words.kind)]) {
      assert.equal(typeof value, 'string');
      assert.ok(value.trim());
    }
  });

  test(`${lang} counts in words`, () => {
    for (const n of [0, 1, 2, 5, 11, 21, 1000]) {
      assert.match(words.more(n), new RegExp(`\\b${n}\\b`));
      assert.match(words.count(n, n), new RegExp(`^${n} \\S+$`)); // all shown: no "n of"
      assert.match(words.count(1, n + 2), new RegExp(`^1 \\S+ ${n + 2} \\S+$`));
    }
  });
}

test('English and Russian plurals', () => {
  assert.equal(en.count(1, 1), '1 event');
  assert.equal(en.count(3, 3), '3 events');
  const ru = STRINGS.ru;
  const forms = [1, 2, 5, 11, 12, 21, 22, 25, 111, 101].map((n) => ru.count(n, n));
  assert.deepEqual(forms, [
    '1 событие', '2 события', '5 событий', '11 событий', '12 событий', '21 событие',
    '22 события', '25 событий', '111 событий', '101 событие',
  ]);
  assert.equal(ru.count(2, 5), '2 из 5 событий');
});
