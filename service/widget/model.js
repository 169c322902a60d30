// The widget's pure part: days, the axis's span, rows (lanes), ticks and URLs; no DOM, so
// that tests/widget/ runs it under Node. element.js draws what these work out.

const DAY = 864e5;
const PAD = 24; // px before the first and after the last day
const AXIS = 30; // axis height, px
const LANE = 70; // one row of facts, px: a fact's box is 4 px less (it clips, see CSS)
const MORE = 30; // the "more below" bar, px
const LABEL_MAX = 240; // a fact's text wraps (the title, to two lines) at this width, px
const FILTERS = ['from', 'to', 'country', 'tag', 'status', 'kind'];
const FEED_FILTERS = ['country', 'tag', 'status', 'kind', 'lang'];
const STATUSES = ['held', 'planned', 'proposed', 'postponed', 'cancelled', 'elapsed'];
// Tick steps: [count, unit], unit d(ay), m(onth) or y(ear); the first at least 80 px apart is used.
const STEPS = [[1, 'd'], [7, 'd'], [1, 'm'], [3, 'm'], [6, 'm'], [1, 'y'], [2, 'y'], [5, 'y'],
  [10, 'y'], [20, 'y'], [50, 'y'], [100, 'y'], [250, 'y'], [500, 'y'], [1000, 'y']];
const UNIT_DAYS = { d: 1, m: 30.44, y: 365.25 };

function utcDay(y, m, d) {
  const t = new Date(0);
  t.setUTCFullYear(y, m, d); // also right for years 1–99, unlike Date.UTC
  return Math.round(t.getTime() / DAY);
}

function dayOf(iso) {
  return utcDay(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10));
}

function dateOf(day) {
  return new Date(day * DAY);
}

function safeHref(url, base) {
  try {
    const u = new URL(url, base);
    return /^(https?|webcal):$/.test(u.protocol) ? u.href : null;
  } catch (_) {
    return null;
  }
}

function regionNames(lang) {
  let names = null;
  try {
    names = new Intl.DisplayNames([lang], { type: 'region' });
  } catch (_) { /* old browser: codes stay codes */ }
  return (code) => {
    try {
      return (names && names.of(code)) || code;
    } catch (_) {
      return code; // organisations such as CIS are not regions
    }
  };
}

// An API item as the widget lays it out: its days [s, e) (null where open) and countries.
function toFact(item) {
  const d = item.date || {};
  const s = d.start ? dayOf(d.start) : null;
  const e = d.end ? dayOf(d.end) + 1 : null; // exclusive
  const countries = new Set(item.participants || []);
  if (item.place && item.place.country) countries.add(item.place.country);
  return {
    item, s, e, countries,
    id: String(item.id),
    approx: d.precision !== 'day' || /[~?%]$/.test(d.edtf || '') || s == null || e == null,
    year: (d.start || d.end || '').slice(0, 4),
  };
}

// The first or last day of a `from` or `to` attribute (a year or a date), or null.
function bound(name, value) {
  const v = (value || '').trim();
  if (/^\d{4}$/.test(v)) return name === 'from' ? utcDay(+v, 0, 1) : utcDay(+v, 11, 31);
  return /^\d{4}-\d\d-\d\d$/.test(v) ? dayOf(v) : null;
}

// The axis's days [lo, hi): exactly `from`–`to` (days or null), else the facts with both
// ends known (an open end would stretch it over years of nothing; it fades out past the
// edge instead) and a margin; with no facts, the year `year`.
function span(facts, from, to, year) {
  let lo = Infinity, hi = -Infinity;
  const closed = facts.filter((f) => f.s != null && f.e != null);
  for (const f of closed.length ? closed : facts) {
    lo = Math.min(lo, f.s != null ? f.s : f.e - 1);
    hi = Math.max(hi, f.e != null ? f.e : f.s + 1);
  }
  if (!facts.length) {
    lo = utcDay(year, 0, 1);
    hi = lo + 365;
  }
  const margin = Math.max(15, (hi - lo) * 0.03);
  lo = from != null ? from : Math.floor(lo - margin);
  hi = to != null ? to + 1 : Math.ceil(hi + margin);
  return [lo, Math.max(hi, lo + 1)];
}

// A fact's text width, estimated: measuring 1,000 labels would cost a layout each.
function textWidth(title, label, status) {
  return Math.min(LABEL_MAX, 7.5 * Math.max(title.length, label.length + status.length + 3) + 8);
}

// Each fact at `ppd` px per day: its box (x, width; a label near the end goes left of its
// mark), its mark (bar, shift in the box), ends cut at the axis's and drawn fading out
// there, and its row: the first with room. `width` is the canvas's.
function pack(facts, widthOf, lo, hi, ppd) {
  const placed = [], full = PAD + (hi - lo) * ppd;
  for (const f of facts) {
    const point = !f.approx && f.e - f.s === 1;
    const a = Math.min(hi - 1, f.s != null ? Math.max(lo, f.s) : lo);
    const b = Math.max(a + 1, f.e != null ? Math.min(hi, f.e) : hi);
    const x = point ? PAD + (a + 0.5 - lo) * ppd - 7 : PAD + (a - lo) * ppd;
    const bar = point ? 14 : Math.max(14, (b - a) * ppd);
    const text = widthOf(f), width = Math.max(bar, text);
    const at = Math.max(0, Math.min(x, full - width));
    placed.push({
      f, x: at, shift: x - at, bar, width, lane: 0, long: bar > text + 40,
      openStart: !point && (f.s == null || f.s < lo), openEnd: !point && (f.e == null || f.e > hi),
    });
  }
  placed.sort((p, q) => p.x - q.x);
  const lanes = []; // right edge of each lane
  let right = 0;
  for (const p of placed) {
    let lane = lanes.findIndex((edge) => edge <= p.x);
    if (lane < 0) lane = lanes.push(0) - 1;
    lanes[lane] = p.x + p.width + 12;
    right = Math.max(right, p.x + p.width);
    p.lane = lane;
  }
  return { placed, lanes: lanes.length, width: Math.ceil(Math.max(PAD * 2 + (hi - lo) * ppd, right + PAD)) };
}

// [day, label] of the ticks from day `first` to `last` of the axis [lo, hi), none at the
// very end: it would stick out.
function ticks(lo, hi, ppd, first, last, lang) {
  const [n, unit] = STEPS.find(([k, u]) => k * UNIT_DAYS[u] * ppd >= 80) || STEPS[STEPS.length - 1];
  const fmt = unit === 'y' ? null : new Intl.DateTimeFormat(lang, unit === 'm'
    ? { month: 'short', year: 'numeric', timeZone: 'UTC' }
    : { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const start = dateOf(Math.max(lo, Math.floor(first)));
  let y = start.getUTCFullYear(), m = unit === 'm' ? start.getUTCMonth() - (start.getUTCMonth() % n) : 0;
  let d = unit === 'd' ? Math.max(lo, Math.floor(first)) : 0;
  if (unit === 'y') y -= ((y % n) + n) % n;
  const out = [];
  for (let i = 0; i < 400; i++) {
    const day = unit === 'y' ? utcDay(y, 0, 1) : unit === 'm' ? utcDay(y, m, 1) : d;
    if (day > Math.min(last, hi - 1)) break;
    if (day >= lo) out.push([day, unit === 'y' ? String(y) : fmt.format(dateOf(day))]);
    if (unit === 'y') y += n;
    else if (unit === 'm') {
      m += n;
      if (m > 11) (y += Math.floor(m / 12)), (m %= 12);
    } else d += n;
  }
  return out;
}

// The country list: [label, code] of each state or organisation among the facts, by name,
// and `chosen`, those of the `country` attribute that the first choice stands for.
function countryChoices(facts, attribute, names) {
  const codes = new Set();
  for (const f of facts) for (const c of f.countries) codes.add(c);
  // Narrowed by the `country` attribute, "all" is those countries, not all countries.
  const chosen = (attribute || '').toUpperCase().split(/[\s,]+/).filter((c) => codes.has(c));
  const few = codes.size < 2;
  if (chosen.length === 1) codes.delete(chosen[0]); // the same as the first option
  const label = (c) => (names(c) === c ? c : `${names(c)} (${c})`);
  const sorted = [...codes].map((c) => [names(c), c]).sort((a, b) => a[0].localeCompare(b[0]));
  return { chosen: chosen.map(label).join(', '), options: sorted.map(([, c]) => [label(c), c]), few };
}

// What the widget reads: `src` (relative to `base`) with the filter attributes (`attr`
// gives each one's value), `lang` and a page size.
function apiUrl(src, base, attr, lang) {
  const url = new URL(src, base);
  for (const name of FILTERS) {
    const raw = (attr(name) || '').trim();
    if (!raw) continue;
    url.searchParams.delete(name);
    let values = raw.split(/[\s,]+/).filter(Boolean);
    if (name === 'from' || name === 'to') {
      values = [/^\d{4}$/.test(raw) ? raw + (name === 'from' ? '-01-01' : '-12-31') : raw];
    }
    for (const value of values) url.searchParams.append(name, value);
  }
  url.searchParams.set('lang', lang);
  if (!url.searchParams.has('limit')) url.searchParams.set('limit', '1000');
  return url;
}

// The calendar feed with the widget's own filters: what "subscribe" subscribes to.
function feedUrl(api) {
  const path = /api\/v1\/timeline$/.test(api.pathname)
    ? api.pathname.replace(/api\/v1\/timeline$/, 'calendar.ics') : '/calendar.ics';
  const feed = new URL(path, api);
  for (const name of FEED_FILTERS) for (const v of api.searchParams.getAll(name)) feed.searchParams.append(name, v);
  return feed.href;
}
