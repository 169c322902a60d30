// The widget's pure part, without a browser: days, the axis's span, rows, ticks and URLs.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./parts.js');

const m = load(['model.js'], [
  'PAD', 'LABEL_MAX', 'utcDay', 'dayOf', 'dateOf', 'safeHref', 'regionNames', 'toFact', 'bound',
  'span', 'textWidth', 'pack', 'ticks', 'countryChoices', 'apiUrl', 'feedUrl',
]);

function item(start, end, more = {}) {
  return { id: 7, date: { start, end, precision: 'day', edtf: '', label: start }, ...more };
}

test('days count from 1970 in UTC, years 1–99 included', () => {
  assert.equal(m.dayOf('1970-01-01'), 0);
  assert.equal(m.dayOf('2025-01-01'), 20089);
  assert.equal(m.dateOf(m.dayOf('2025-03-31')).toISOString().slice(0, 10), '2025-03-31');
  assert.equal(m.dateOf(m.utcDay(50, 2, 1)).toISOString().slice(0, 10), '0050-03-01');
});

test('a fact known to the day has its days [s, e), the end exclusive, and is not approximate', () => {
  const f = m.toFact(item('2025-03-01', '2025-03-03', { participants: ['KZ'], place: { country: 'UZ' } }));
  assert.equal(f.id, '7');
  assert.equal(f.e - f.s, 3);
  assert.equal(f.approx, false);
  assert.equal(f.year, '2025');
  assert.deepEqual([...f.countries], ['KZ', 'UZ']);
});

test('a month, a qualified date or an open end is approximate', () => {
  const month = item('2025-03-01', '2025-03-31');
  month.date.precision = 'month';
  assert.equal(m.toFact(month).approx, true);
  const about = item('2025-03-01', '2025-03-01');
  about.date.edtf = '2025-03-01~';
  assert.equal(m.toFact(about).approx, true);
  const open = m.toFact(item(null, '2035-12-31'));
  assert.equal(open.s, null);
  assert.equal(open.approx, true);
  assert.equal(open.year, '2035');
});

test('from and to take a year or a date', () => {
  assert.equal(m.bound('from', '2025'), m.dayOf('2025-01-01'));
  assert.equal(m.bound('to', ' 2025 '), m.dayOf('2025-12-31'));
  assert.equal(m.bound('to', '2025-06-30'), m.dayOf('2025-06-30'));
  assert.equal(m.bound('from', 'soon'), null);
  assert.equal(m.bound('from', null), null);
});

test('the axis spans exactly from–to when given', () => {
  const facts = [m.toFact(item('2020-01-01', '2020-01-01'))];
  const from = m.dayOf('2025-01-01'), to = m.dayOf('2025-12-31');
  assert.deepEqual(m.span(facts, from, to, 2026), [from, to + 1]);
});

test('otherwise it spans the facts with both ends known, and a margin', () => {
  const closed = m.toFact(item('2025-01-01', '2025-12-31'));
  const open = m.toFact(item('2025-06-01', null));
  const [lo, hi] = m.span([closed, open], null, null, 2026);
  const margin = Math.max(15, 365 * 0.03);
  assert.equal(lo, Math.floor(closed.s - margin));
  assert.equal(hi, Math.ceil(closed.e + margin));
  // only open facts: each known end counts as a day
  const [lo2, hi2] = m.span([open], null, null, 2026);
  assert.deepEqual([lo2, hi2], [open.s - 15, open.s + 1 + 15]);
});

test('with no facts the axis is the given year, and never empty', () => {
  const [lo, hi] = m.span([], null, null, 2026);
  assert.equal(lo, Math.floor(m.dayOf('2026-01-01') - 15));
  assert.equal(hi, Math.ceil(m.dayOf('2026-01-01') + 365 + 15));
  const day = m.dayOf('2025-05-05');
  assert.deepEqual(m.span([], day, day - 10, 2026), [day, day + 1]);
});

test("a fact's text width is estimated from its longest line, at most LABEL_MAX", () => {
  assert.equal(m.textWidth('Summit', '1 May 2025', 'held'), 7.5 * (10 + 4 + 3) + 8);
  assert.equal(m.textWidth('x'.repeat(200), '', ''), m.LABEL_MAX);
});

function packed(ranges, lo, hi, ppd, width = 50) {
  const facts = ranges.map(([s, e]) => m.toFact(item(s, e)));
  return { facts, ...m.pack(facts, () => width, m.dayOf(lo), m.dayOf(hi), ppd) };
}

test('facts that overlap go to rows of their own; one with room shares the first', () => {
  const { placed, lanes } = packed(
    [['2025-01-01', '2025-01-01'], ['2025-01-02', '2025-01-02'], ['2025-04-01', '2025-04-01']],
    '2024-12-01', '2025-06-01', 1,
  );
  assert.equal(lanes, 2);
  assert.deepEqual(placed.map((p) => p.lane), [0, 1, 0]);
  assert.deepEqual(placed.map((p) => p.x), [...placed.map((p) => p.x)].sort((a, b) => a - b));
});

test('rows keep 12 px between facts', () => {
  const lo = '2025-01-01', hi = '2026-01-01';
  // 50 px wide boxes at 1 px per day: 62 days apart fit one row, 61 do not
  assert.equal(packed([['2025-02-01', '2025-02-01'], ['2025-04-04', '2025-04-04']], lo, hi, 1).lanes, 1);
  assert.equal(packed([['2025-02-01', '2025-02-01'], ['2025-04-03', '2025-04-03']], lo, hi, 1).lanes, 2);
});

test('a day is a 14 px point centred on it; a range is a bar over its days', () => {
  const { placed: [point] } = packed([['2025-01-11', '2025-01-11']], '2025-01-01', '2025-12-31', 10);
  assert.equal(point.bar, 14);
  assert.equal(point.x, m.PAD + 10.5 * 10 - 7);
  assert.equal(point.shift, 0);
  assert.equal(point.openStart || point.openEnd, false);
  const { placed: [range] } = packed([['2025-01-11', '2025-01-30']], '2025-01-01', '2025-12-31', 10);
  assert.equal(range.bar, 200);
  assert.equal(range.width, 200);
  assert.equal(range.long, true); // its label is kept in view
});

test('a label near the end goes left of its mark, inside the axis', () => {
  const ppd = 10, lo = '2025-01-01', hi = '2025-02-01';
  const { placed: [p] } = packed([['2025-01-31', '2025-01-31']], lo, hi, ppd, 120);
  const full = m.PAD + 31 * ppd;
  assert.equal(p.x + p.width, full);
  assert.ok(p.shift > 0);
  assert.equal(p.x + p.shift, m.PAD + 30.5 * ppd - 7); // the mark stays on its day
});

test('ends past the axis, or open, are cut there and marked to fade out', () => {
  const { placed } = packed([['2024-06-01', '2025-02-01'], ['2025-06-01', null]], '2025-01-01', '2025-12-31', 1);
  const [past, open] = placed;
  assert.equal(past.openStart, true);
  assert.equal(past.openEnd, false);
  assert.equal(past.x, m.PAD);
  assert.equal(open.openEnd, true);
  assert.equal(open.x + open.bar, m.PAD + (m.dayOf('2025-12-31') - m.dayOf('2025-01-01')));
});

test('the canvas is as wide as the axis, or the rightmost box and the padding', () => {
  const { width } = packed([], '2025-01-01', '2025-01-11', 10);
  assert.equal(width, 2 * m.PAD + 100);
});

test('ticks step by years, months or days, at least 80 px apart', () => {
  const lo = m.dayOf('2020-01-01'), hi = m.dayOf('2030-01-01');
  const years = m.ticks(lo, hi, 0.3, lo, hi, 'en');
  assert.deepEqual(years.map(([, label]) => label), ['2020', '2021', '2022', '2023', '2024', '2025', '2026', '2027', '2028', '2029']);
  assert.equal(years[1][0], m.dayOf('2021-01-01'));
  const sparse = m.ticks(lo, hi, 0.1, lo, hi, 'en');
  assert.deepEqual(sparse.map(([, label]) => label), ['2020', '2025']); // every 5 years
  const months = m.ticks(lo, hi, 3, lo, lo + 100, 'en');
  assert.deepEqual(months.map(([, label]) => label), ['Jan 2020', 'Feb 2020', 'Mar 2020', 'Apr 2020']);
  const weeks = m.ticks(lo, hi, 12, lo, lo + 20, 'en');
  assert.deepEqual(weeks.map(([day]) => day - lo), [0, 7, 14]);
  assert.equal(weeks[1][1], 'Jan 8');
  assert.equal(m.ticks(lo, hi, 3, lo, lo + 40, 'ru')[0][1], 'янв. 2020 г.');
});

test('no tick at the very end of the axis, none before its start', () => {
  const lo = m.dayOf('2020-06-01'), hi = m.dayOf('2022-01-01');
  const days = m.ticks(lo, hi, 0.3, lo - 400, hi + 400, 'en').map(([day]) => day); // yearly
  assert.deepEqual(days, [m.dayOf('2021-01-01')]);
});

test('the country list is sorted by name and names its codes', () => {
  const names = m.regionNames('en');
  const facts = ['UZ', 'KZ', 'CIS'].map((c) => m.toFact(item('2025-01-01', '2025-01-01', { participants: [c] })));
  const all = m.countryChoices(facts, '', names);
  assert.deepEqual(all.options, [['CIS', 'CIS'], ['Kazakhstan (KZ)', 'KZ'], ['Uzbekistan (UZ)', 'UZ']]);
  assert.equal(all.chosen, '');
  assert.equal(all.few, false);
  // one country chosen by the attribute is the first choice, not an option as well
  const one = m.countryChoices(facts, 'kz', names);
  assert.equal(one.chosen, 'Kazakhstan (KZ)');
  assert.deepEqual(one.options.map(([, c]) => c), ['CIS', 'UZ']);
  assert.equal(m.countryChoices(facts, 'KZ, UZ, FR', names).chosen, 'Kazakhstan (KZ), Uzbekistan (UZ)');
  assert.equal(m.countryChoices(facts.slice(0, 1), '', names).few, true);
});

test('the API URL carries the filter attributes, the language and a page size', () => {
  const attrs = { from: '2025', to: '2026', country: 'KZ, UZ', tag: 'summit', status: '' };
  const url = m.apiUrl('api/v1/timeline?country=FR', 'https://host.example/page/', (n) => attrs[n], 'ru');
  assert.equal(url.origin + url.pathname, 'https://host.example/page/api/v1/timeline');
  assert.deepEqual([...url.searchParams], [
    ['from', '2025-01-01'], ['to', '2026-12-31'], ['country', 'KZ'], ['country', 'UZ'],
    ['tag', 'summit'], ['lang', 'ru'], ['limit', '1000'],
  ]);
  assert.equal(m.apiUrl('/t?limit=5', 'https://h.example/', () => null, 'en').searchParams.get('limit'), '5');
  assert.equal(m.apiUrl('/t', 'https://h.example/', (n) => (n === 'from' ? '2025-03-01' : null), 'en')
    .searchParams.get('from'), '2025-03-01');
});

test("the subscription is the calendar feed beside the API, with the widget's filters", () => {
  const api = new URL('https://h.example/svc/api/v1/timeline?from=2025-01-01&country=KZ&kind=summit&lang=en&limit=1000');
  assert.equal(m.feedUrl(api), 'https://h.example/svc/calendar.ics?country=KZ&kind=summit&lang=en');
  assert.equal(m.feedUrl(new URL('https://h.example/elsewhere?tag=x')), 'https://h.example/calendar.ics?tag=x');
});

test('links are http(s) or webcal only', () => {
  assert.equal(m.safeHref('javascript:alert(1)'), null);
  assert.equal(m.safeHref('not a url'), null);
  assert.equal(m.safeHref('/facts/x', 'https://h.example/api'), 'https://h.example/facts/x');
  assert.equal(m.safeHref('webcal://h.example/calendar.ics'), 'webcal://h.example/calendar.ics');
});

test('region names fall back to the code', () => {
  assert.equal(m.regionNames('ru')('KZ'), 'Казахстан');
  assert.equal(m.regionNames('en')('EU'), 'European Union');
  assert.equal(m.regionNames('en')('CIS'), 'CIS');
});
