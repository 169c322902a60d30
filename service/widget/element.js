// The <event-timeline> element: it draws what model.js works out, in its own shadow tree.
// Fact text only ever reaches the page through textContent, attributes and Option(): never as HTML.
// Key, wheel and pointer handlers sit on the widget's own shadow tree, never on the host document.

const NAME = 'event-timeline';
const SCRIPT_URL = document.currentScript && document.currentScript.src;
const AUTO_MAX = 720; // the default height follows the content up to this, px
const PPD_MAX = 60; // closest zoom, px per day
const NARROW = 560; // below this width (px) the agenda list is the default view
const MAX_PAGES = 10; // of 1000 facts each
const ZOOM_KEYS = { '+': 1.5, '=': 1.5, '-': 1 / 1.5, _: 1 / 1.5 };
const MOVE_KEYS = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, PageDown: 10, PageUp: -10 };

// Static markup only: no data ever goes through innerHTML.
const TEMPLATE = `
<div class="root" role="region" aria-busy="true">
 <div class="bar">
  <span class="count"></span>
  <label hidden><span class="sr"></span><select class="country"></select></label>
  <span class="zoom">
   <button class="earlier" type="button">‹</button><button class="out" type="button">−</button><button class="fitb" type="button">↔</button><button class="in" type="button">+</button><button class="later" type="button">›</button>
  </span>
  <button class="toggle" type="button" aria-pressed="false">☰</button>
 </div>
 <div class="legend"></div>
 <div class="main">
  <div class="view axisview"><div class="canvas"><div class="axis" aria-hidden="true"></div><ul class="facts"></ul></div></div>
  <div class="view listview" hidden></div>
  <div class="msg" hidden></div>
  <section class="panel" hidden aria-labelledby="ph">
   <button class="close" type="button">×</button>
   <h2 id="ph" tabindex="-1"></h2>
   <p class="when"></p><p class="summary"></p>
   <p class="links"><a class="page"></a><a class="ics"></a><a class="sub"></a></p><dl></dl>
  </section>
 </div>
 <button class="more" type="button" hidden></button>
 <div class="sr live" role="status" aria-live="polite"></div>
</div>`;

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}

function setHeight(root, value) {
  const v = (value || '').trim();
  if (/^\d+(\.\d+)?$/.test(v)) root.style.setProperty('--_h', `${v}px`);
  else if (/^\d+(\.\d+)?(px|em|rem|vh|svh|dvh|%)$/.test(v)) root.style.setProperty('--_h', v);
  else root.style.removeProperty('--_h');
}

class EventTimeline extends HTMLElement {
  static get observedAttributes() {
    return ['src', 'lang', 'height', 'theme', ...FILTERS];
  }

  constructor() {
    super();
    const shadow = this.attachShadow({ mode: 'open' });
    adoptStyles(shadow);
    const holder = document.createElement('div');
    holder.innerHTML = TEMPLATE;
    this._root = holder.firstElementChild;
    shadow.append(this._root);
    const $ = (sel) => this._root.querySelector(sel);
    this._el = {
      count: $('.count'), countryLabel: $('label'), country: $('.country'), legend: $('.legend'),
      toggle: $('.toggle'), axisView: $('.axisview'), canvas: $('.canvas'), axis: $('.axis'),
      facts: $('.facts'), listView: $('.listview'), msg: $('.msg'), panel: $('.panel'),
      close: $('.close'), heading: $('#ph'), when: $('.when'), summary: $('.summary'),
      meta: $('dl'), page: $('.page'), ics: $('.ics'), sub: $('.sub'), live: $('.live'), more: $('.more'), bar: $('.bar'),
      zoom: { earlier: $('.earlier'), out: $('.out'), fitb: $('.fitb'), in: $('.in'), later: $('.later') },
    };
    this._resize = window.ResizeObserver
      ? new ResizeObserver((entries) => this._onResize(entries[0].contentRect.width)) : null;
    this._abort = null; // the load in flight
    this._pending = false; // a load is queued
    this._t = STRINGS.en;
    this._names = null; // code -> name, in the facts' language
    this._apiUrl = null;
    this._loaded = false;
    this._facts = [];
    this._visible = []; // the facts the filters let through, in order
    this._shown = new Set(); // the same, to look up
    this._byId = new Map();
    // Each fact's elements, once drawn: {li, button, mark, width} on the axis, {li, button} in the list.
    this._axisNodes = new Map();
    this._listNodes = new Map();
    this._sections = []; // the list's years
    this._placed = []; // pack()'s answer for the axis as drawn
    this._rendered = { axis: false, list: false };
    this._statusOff = new Set();
    this._country = '';
    this._view = 'axis';
    this._chosenView = null; // set once the reader picks a view
    this._current = null; // the fact that takes Tab focus (roving tabindex)
    this._selected = null; // the fact shown in the panel
    this._lo = 0; // the axis's days [lo, hi), at ppd px per day
    this._hi = 1;
    this._ppd = 1;
    this._fitted = false;
    this._lanes = 0;
    this._width = 800; // the view's, and what the bar, legend (chrome) and a scrollbar take
    this._chrome = 0;
    this._gutter = 0;
    this._hostWidth = null;
    this._moreFrame = 0;
    this._tickFrame = 0;
    this._bind();
  }

  connectedCallback() {
    if (this._resize) this._resize.observe(this);
    this._schedule();
  }

  disconnectedCallback() {
    if (this._resize) this._resize.disconnect();
    if (this._abort) this._abort.abort();
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    if (name === 'height') setHeight(this._root, value);
    else if (name !== 'theme') this._schedule(); // the theme is pure CSS
  }

  // --- events: all on the shadow tree -------------------------------------------------

  _bind() {
    const e = this._el;
    this._root.addEventListener('keydown', (ev) => this._onKey(ev));
    const open = (ev) => {
      const button = ev.target.closest('button[data-fact-id]');
      if (button) this._open(this._byId.get(button.dataset.factId));
    };
    e.facts.addEventListener('click', open);
    e.listView.addEventListener('click', open);
    e.close.addEventListener('click', () => this._close(true));
    e.zoom.in.addEventListener('click', () => this._zoom(1.5));
    e.zoom.out.addEventListener('click', () => this._zoom(1 / 1.5));
    e.zoom.fitb.addEventListener('click', () => this._fit());
    e.zoom.earlier.addEventListener('click', () => this._pan(-0.8));
    e.zoom.later.addEventListener('click', () => this._pan(0.8));
    e.toggle.addEventListener('click', () => {
      this._chosenView = this._view === 'list' ? 'axis' : 'list';
      this._setView(this._chosenView);
    });
    e.country.addEventListener('change', () => {
      this._country = e.country.value;
      this._applyFilters();
    });
    e.legend.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-status]');
      if (!button) return;
      const status = button.dataset.status;
      const off = this._statusOff.has(status);
      if (off) this._statusOff.delete(status);
      else this._statusOff.add(status);
      button.setAttribute('aria-pressed', String(off));
      this._applyFilters();
    });
    const view = e.axisView;
    view.addEventListener('scroll', () => {
      if (!this._tickFrame) this._tickFrame = requestAnimationFrame(() => this._ticks());
    }, { passive: true });
    for (const v of [view, e.listView]) {
      v.addEventListener('scroll', () => {
        if (!this._moreFrame) this._moreFrame = requestAnimationFrame(() => this._moreSign());
      }, { passive: true });
    }
    e.more.addEventListener('click', () => {
      const v = this._view === 'list' ? e.listView : view;
      v.scrollBy({ top: v.clientHeight - AXIS - 8, behavior: this._motion() });
    });
    // Ctrl/⌘ + wheel (and trackpad pinch) zooms; a plain wheel keeps scrolling the page.
    view.addEventListener('wheel', (ev) => {
      if (!(ev.ctrlKey || ev.metaKey) || this._view !== 'axis') return;
      ev.preventDefault();
      this._zoom(ev.deltaY < 0 ? 1.25 : 0.8, ev.clientX - view.getBoundingClientRect().left);
    }, { passive: false });
    let drag = null; // mouse drag pans
    view.addEventListener('pointerdown', (ev) => {
      if (ev.pointerType !== 'mouse' || ev.button !== 0 || ev.target.closest('button,a')) return;
      drag = { x: ev.clientX, y: ev.clientY, left: view.scrollLeft, top: view.scrollTop };
      view.setPointerCapture(ev.pointerId);
      view.classList.add('drag');
    });
    view.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      view.scrollLeft = drag.left - (ev.clientX - drag.x);
      view.scrollTop = drag.top - (ev.clientY - drag.y);
    });
    const stop = () => {
      drag = null;
      view.classList.remove('drag');
    };
    view.addEventListener('pointerup', stop);
    view.addEventListener('pointercancel', stop);
  }

  _onKey(ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.defaultPrevented) return;
    if (ev.key === 'Escape' && !this._el.panel.hidden) {
      ev.preventDefault();
      this._close(true);
      return;
    }
    const target = ev.target;
    const fact = target.dataset && target.dataset.factId && target.tagName === 'BUTTON'
      ? this._byId.get(target.dataset.factId) : null;
    if (fact) {
      const list = this._visible;
      const at = list.indexOf(fact);
      let next = -1;
      if (ev.key in MOVE_KEYS) next = Math.max(0, Math.min(list.length - 1, at + MOVE_KEYS[ev.key]));
      else if (ev.key === 'Home') next = 0;
      else if (ev.key === 'End') next = list.length - 1;
      if (next >= 0) {
        ev.preventDefault();
        this._setCurrent(list[next], true);
        if (!this._el.panel.hidden) this._open(list[next]); // the panel follows the focus
        return;
      }
    }
    if (target.tagName === 'SELECT' || this._view !== 'axis') return;
    if (ev.key in ZOOM_KEYS) {
      ev.preventDefault();
      this._zoom(ZOOM_KEYS[ev.key]);
    } else if (ev.key === '0') {
      ev.preventDefault();
      this._fit();
    }
  }

  _onResize(width) {
    // a new height is the widget's own (_autoHeight)
    if (width === this._hostWidth) return;
    this._hostWidth = width;
    if (!this._facts.length && !this._loaded) return;
    const wanted = this._chosenView || this._defaultView();
    if (wanted !== this._view) this._setView(wanted);
    else if (this._view === 'axis' && this._fitted) this._fit();
    else if (this._view === 'list') this._measure(), this._autoHeight();
    else if (this._view === 'axis' && this._rendered.axis) {
      this._width = this._el.axisView.clientWidth || this._width;
      this._ticks();
    }
  }

  // --- loading --------------------------------------------------------------------------

  _schedule() {
    if (this._pending || !this.isConnected) return;
    this._pending = true;
    queueMicrotask(() => {
      this._pending = false;
      if (this.isConnected) this._load();
    });
  }

  _lang() {
    const own = this.getAttribute('lang') || (this.closest('[lang]') || {}).lang || 'en';
    const lang = own.slice(0, 2).toLowerCase();
    return STRINGS[lang] ? lang : 'en';
  }

  _url() {
    const src = this.getAttribute('src') || (SCRIPT_URL ? new URL('api/v1/timeline', SCRIPT_URL).href : '');
    return apiUrl(src, document.baseURI, (name) => this.getAttribute(name), this._lang());
  }

  async _load() {
    if (this._abort) this._abort.abort();
    const abort = (this._abort = new AbortController());
    const t = (this._t = STRINGS[this._lang()]);
    this._label();
    this._root.setAttribute('aria-busy', 'true');
    this._message(t.loading);
    const started = performance.now();
    try {
      let url = this._url();
      this._apiUrl = url;
      const items = [];
      for (let page = 0; url && page < MAX_PAGES; page++) {
        const response = await fetch(url, {
          signal: abort.signal, credentials: 'omit', headers: { Accept: 'application/json' },
        });
        if (!response.ok) throw new Error(`${response.status}`);
        const body = await response.json();
        for (const item of body.items) items.push(item);
        url = body.next_cursor ? new URL(url) : null;
        if (url) url.searchParams.set('cursor', body.next_cursor);
      }
      const fetched = performance.now();
      this._setData(items);
      const rendered = performance.now();
      this._root.setAttribute('aria-busy', 'false');
      this.dispatchEvent(new CustomEvent('timeline-ready', {
        bubbles: true,
        detail: { count: items.length, fetchMs: fetched - started, renderMs: rendered - fetched },
      }));
    } catch (err) {
      if (err.name === 'AbortError') return;
      this._root.setAttribute('aria-busy', 'false');
      this._message(`${t.failed} (${err.message}).`, true);
    }
  }

  _label() {
    const t = this._t, e = this._el;
    this._root.setAttribute('aria-label', t.region);
    e.facts.setAttribute('aria-label', t.facts);
    e.countryLabel.firstElementChild.textContent = t.country;
    e.close.setAttribute('aria-label', t.close);
    e.toggle.setAttribute('aria-label', t.list);
    e.toggle.title = t.list;
    for (const [key, button] of Object.entries(e.zoom)) {
      const label = { earlier: t.earlier, out: t.zoomOut, fitb: t.fit, in: t.zoomIn, later: t.later }[key];
      button.setAttribute('aria-label', label);
      button.title = label;
    }
    e.page.textContent = t.details;
    e.ics.textContent = t.ics;
    e.sub.textContent = t.subscribe;
    setHeight(this._root, this.getAttribute('height'));
  }

  _message(text, retry) {
    const msg = this._el.msg;
    msg.replaceChildren(el('span', '', text));
    if (retry) {
      const button = el('button', '', this._t.retry);
      button.type = 'button';
      button.addEventListener('click', () => this._load());
      msg.append(button);
    }
    msg.hidden = !text;
  }

  // --- data -----------------------------------------------------------------------------

  _setData(items) {
    this._loaded = true;
    this._close(false);
    this._facts = items.map(toFact);
    this._byId = new Map(this._facts.map((f) => [f.id, f]));
    this._names = regionNames(this._lang());
    const bounds = (name) => bound(name, this.getAttribute(name));
    [this._lo, this._hi] = span(this._facts, bounds('from'), bounds('to'), new Date().getUTCFullYear());
    this._fillCountries();
    this._fillLegend();
    this._rendered = { axis: false, list: false };
    this._axisNodes.clear();
    this._listNodes.clear();
    this._placed = [];
    this._el.facts.replaceChildren();
    this._el.listView.replaceChildren();
    this._current = null;
    this._message(this._facts.length ? '' : this._t.empty);
    this._applyFilters(true);
    this._setView(this._chosenView || this._defaultView(), true);
  }

  _fillCountries() {
    const e = this._el;
    const { chosen, options, few } = countryChoices(this._facts, this.getAttribute('country'), this._names);
    e.country.replaceChildren(new Option(chosen || this._t.allCountries, ''), ...options.map(([label, code]) => new Option(label, code)));
    if (!options.some(([, code]) => code === this._country)) this._country = '';
    e.country.value = this._country;
    e.countryLabel.hidden = few;
  }

  _fillLegend() {
    const t = this._t, legend = this._el.legend;
    const present = new Set(this._facts.map((f) => f.item.status));
    const parts = [];
    for (const status of STATUSES) {
      if (!present.has(status)) continue;
      const button = el('button', `s-${status}`);
      button.type = 'button';
      button.dataset.status = status;
      button.setAttribute('aria-pressed', String(!this._statusOff.has(status)));
      button.append(el('span', 'mark'), el('span', '', t.status[status]));
      parts.push(button);
    }
    if (this._facts.some((f) => f.approx)) {
      const approx = el('span', 's-held approx');
      approx.style.display = 'inline-flex';
      approx.style.gap = '5px';
      approx.append(el('span', 'mark'), el('span', '', t.approx));
      parts.push(approx);
    }
    parts.push(el('span', 'hint', t.hint));
    legend.replaceChildren(...parts);
  }

  _applyFilters(initial) {
    const country = this._country, off = this._statusOff;
    this._visible = this._facts.filter((f) => (!country || f.countries.has(country)) && !off.has(f.item.status));
    this._shown = new Set(this._visible);
    for (const nodes of [this._axisNodes, this._listNodes]) {
      for (const [f, n] of nodes) n.li.hidden = !this._shown.has(f);
    }
    this._el.count.textContent = this._facts.length ? this._t.count(this._visible.length, this._facts.length) : '';
    if (this._selected && !this._shown.has(this._selected)) this._close(false);
    if (!this._shown.has(this._current)) this._setCurrent(this._visible[0] || null, false);
    if (initial) return;
    if (this._rendered.axis) this._layout();
    if (this._rendered.list) this._yearHeadings();
  }

  // --- views ----------------------------------------------------------------------------

  _defaultView() {
    return this.getBoundingClientRect().width < NARROW ? 'list' : 'axis';
  }

  _setView(view, fresh) {
    const e = this._el;
    const changed = view !== this._view;
    this._view = view;
    e.axisView.hidden = view !== 'axis';
    e.listView.hidden = view !== 'list';
    e.toggle.setAttribute('aria-pressed', String(view === 'list'));
    this._root.classList.toggle('listed', view === 'list'); // zooming means nothing in a list
    if (view === 'axis' && !this._rendered.axis) {
      this._ppd = this._fitPpd(); // measured before 1,000 new elements make layout dear
      e.axisView.scrollLeft = 0;
      this._renderAxis();
      this._fit(true);
    } else if (view === 'list' && !this._rendered.list) {
      this._measure();
      this._renderList();
    } else if (view === 'axis' && fresh) {
      this._fit();
    } else this._autoHeight();
    if (this._current) this._setCurrent(this._current, changed && this._root.contains(this.shadowRoot.activeElement));
  }

  // A fact's button on the axis ('fact') or in the list ('row'), its mark, and on the axis
  // its text's estimated width.
  _factButton(f, cls) {
    const it = f.item, t = this._t;
    const status = t.status[it.status] || it.status;
    const row = cls === 'row';
    const button = el('button', `${cls} s-${it.status}${f.approx ? ' approx' : ''}` +
      (row && f.s == null ? ' open-start' : '') + (row && f.e == null ? ' open-end' : ''));
    button.type = 'button';
    button.tabIndex = f === this._current ? 0 : -1;
    button.dataset.factId = f.id;
    button.setAttribute('aria-expanded', 'false');
    const label = it.date ? it.date.label : '';
    const mark = el('span', 'mark');
    if (row) {
      const where = it.place ? ` · ${it.place.name}` : '';
      button.append(mark, el('span', 'd', `${label} · ${status}${where}`), el('span', 't', it.title));
    } else button.append(mark, el('span', 't', it.title), el('span', 'd', `${label} · ${status}`));
    return { button, mark, width: row ? 0 : textWidth(it.title, label, status) };
  }

  _renderAxis() {
    const frag = document.createDocumentFragment();
    for (const f of this._facts) {
      const li = document.createElement('li');
      li.hidden = !this._shown.has(f);
      const nodes = this._factButton(f, 'fact');
      li.append(nodes.button);
      this._axisNodes.set(f, { li, ...nodes });
      frag.append(li);
    }
    this._el.facts.replaceChildren(frag);
    this._rendered.axis = true;
  }

  _renderList() {
    const frag = document.createDocumentFragment();
    let year = null, ul = null;
    this._sections = [];
    for (const f of this._facts) {
      if (f.year !== year || !ul) {
        year = f.year;
        const section = el('section');
        section.append(el('h3', '', year), (ul = el('ul')));
        this._sections.push(section);
        frag.append(section);
      }
      const li = document.createElement('li');
      li.hidden = !this._shown.has(f);
      const { button } = this._factButton(f, 'row');
      li.append(button);
      this._listNodes.set(f, { li, button });
      ul.append(li);
    }
    this._el.listView.replaceChildren(frag);
    this._rendered.list = true;
    this._yearHeadings();
  }

  _yearHeadings() {
    for (const section of this._sections) {
      section.hidden = ![...section.querySelectorAll('li')].some((li) => !li.hidden);
    }
    if (this._view === 'list') this._autoHeight();
  }

  // Positions every visible fact at the current zoom, in rows (model.js's pack).
  _layout(left) {
    const nodes = this._axisNodes;
    const { placed, lanes, width } = pack(this._visible, (f) => nodes.get(f).width, this._lo, this._hi, this._ppd);
    for (const p of placed) {
      const { li, button, mark } = nodes.get(p.f);
      button.classList.toggle('open-start', p.openStart);
      button.classList.toggle('open-end', p.openEnd);
      button.classList.toggle('long', p.long);
      li.style.transform = `translate(${p.x.toFixed(1)}px,${AXIS + 8 + p.lane * LANE}px)`;
      li.style.width = `${p.width.toFixed(1)}px`;
      mark.style.width = `${p.bar.toFixed(1)}px`;
      mark.style.marginLeft = `${p.shift.toFixed(1)}px`;
    }
    const canvas = this._el.canvas;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${AXIS + 16 + lanes * LANE}px`;
    this._placed = placed;
    this._lanes = lanes;
    this._ticks(left);
    this._autoHeight();
  }

  // Default height: the content's up to AUTO_MAX, then whole rows and the more-bar.
  // A `height` attribute or --et-height wins (CSS).
  _autoHeight() {
    const e = this._el, list = this._view === 'list';
    const view = list ? e.listView : e.axisView;
    const chrome = this._chrome;
    const rows = (n) => AXIS + 8 + n * LANE + (this._fitted ? 0 : this._gutter); // zoomed: a scrollbar
    let h = chrome + (list ? view.scrollHeight : rows(this._lanes) + 8);
    if (h > AUTO_MAX) { // whole rows only: the next starts at the view's bottom edge
      h = list ? AUTO_MAX : chrome + MORE + rows(Math.floor((AUTO_MAX - chrome - MORE - rows(0)) / LANE));
    }
    this._root.style.setProperty('--_auto', `${Math.max(160, Math.ceil(h))}px`);
    // next frame: read now, it would lay out every fact again
    if (!this._moreFrame) this._moreFrame = requestAnimationFrame(() => this._moreSign());
  }

  // The more-bar: how many shown facts are not wholly in view, below.
  _moreSign(again) {
    this._moreFrame = 0;
    const e = this._el, list = this._view === 'list';
    const view = list ? e.listView : e.axisView;
    const bottom = view.scrollTop + view.clientHeight + 1;
    let n = 0;
    if (!list) n = this._placed.filter((p) => AXIS + 4 + (p.lane + 1) * LANE > bottom).length;
    else {
      const i = this._visible.findIndex((f) => {
        const row = this._listNodes.get(f);
        return row && row.li.offsetTop + row.li.offsetHeight > bottom;
      });
      if (i >= 0) n = this._visible.length - i; // rows run in order: this one and all after it
    }
    const was = e.more.hidden;
    e.more.hidden = !n;
    e.more.textContent = n ? this._t.more(n) : '';
    if (was !== e.more.hidden && !again) this._moreSign(true); // the bar took or gave room
  }

  // Ticks for the visible stretch and a screen either side. `left`: the scroll position
  // about to be set, so that drawing them does not force a layout first.
  _ticks(left) {
    this._tickFrame = 0;
    if (!this._rendered.axis || this._view !== 'axis') return;
    const ppd = this._ppd, lo = this._lo, width = this._width;
    const scrolled = left != null ? left : this._el.axisView.scrollLeft;
    const first = lo + (scrolled - PAD - width) / ppd;
    const last = lo + (scrolled - PAD + 2 * width) / ppd;
    const frag = document.createDocumentFragment();
    for (const [day, label] of ticks(lo, this._hi, ppd, first, last, this._lang())) {
      const tick = el('div', 'tick', label);
      tick.style.left = `${(PAD + (day - lo) * ppd).toFixed(1)}px`;
      frag.append(tick);
    }
    const today = Math.floor(Date.now() / DAY);
    if (today >= lo && today <= this._hi) {
      const line = el('div', 'today');
      line.title = this._t.today;
      line.style.left = `${(PAD + (today + 0.5 - lo) * ppd).toFixed(1)}px`;
      frag.append(line);
    }
    this._el.axis.replaceChildren(frag);
  }

  // Read while layout is cheap (before 1,000 facts are added), for _autoHeight too.
  _measure() {
    const e = this._el, view = e.axisView;
    this._width = view.clientWidth || this.getBoundingClientRect().width || 800;
    this._chrome = e.bar.offsetHeight + e.legend.offsetHeight + 2;
    if (view.offsetWidth) this._gutter = view.offsetWidth - view.clientWidth; // a scrollbar's
  }

  _fitPpd() {
    this._measure();
    return Math.max(0.0005, (this._width - PAD * 2) / Math.max(1, this._hi - this._lo));
  }

  _fit(measured) {
    if (!this._rendered.axis) return;
    if (!measured) this._ppd = this._fitPpd();
    this._fitted = true;
    this._layout(0);
    if (!measured) this._el.axisView.scrollLeft = 0;
  }

  _zoom(factor, anchor) {
    if (this._view !== 'axis' || !this._rendered.axis) return;
    const view = this._el.axisView;
    const at = anchor == null ? view.clientWidth / 2 : anchor;
    const day = this._lo + (view.scrollLeft + at - PAD) / this._ppd;
    const ppd = Math.min(PPD_MAX, Math.max(this._fitPpd(), this._ppd * factor));
    if (ppd === this._ppd) return;
    this._ppd = ppd;
    this._fitted = false;
    const left = Math.max(0, PAD + (day - this._lo) * ppd - at);
    this._layout(left);
    view.scrollLeft = left;
  }

  _pan(screens) {
    const view = this._el.axisView;
    view.scrollBy({ left: screens * view.clientWidth, behavior: this._motion() });
  }

  _motion() {
    return matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth';
  }

  // --- focus and the detail panel -------------------------------------------------------

  _buttonsOf(f) {
    return [this._axisNodes.get(f), this._listNodes.get(f)].filter(Boolean).map((n) => n.button);
  }

  _setCurrent(f, focus) {
    for (const b of this._buttonsOf(this._current)) b.tabIndex = -1;
    this._current = f;
    for (const b of this._buttonsOf(f)) b.tabIndex = 0;
    if (focus && f) {
      const nodes = (this._view === 'list' ? this._listNodes : this._axisNodes).get(f);
      if (nodes) nodes.button.focus();
    }
  }

  _open(f) {
    if (!f) return;
    const t = this._t, e = this._el, it = f.item;
    this._setCurrent(f, false);
    for (const b of this._buttonsOf(this._selected)) b.setAttribute('aria-expanded', 'false');
    this._selected = f;
    for (const b of this._buttonsOf(f)) b.setAttribute('aria-expanded', 'true');
    const status = t.status[it.status] || it.status;
    e.panel.dataset.factId = f.id;
    e.heading.textContent = it.title;
    const badge = el('span', `badge s-${it.status}`, status);
    const kind = t.kind[it.kind] || it.kind;
    e.when.replaceChildren(`${it.date.label} · ${kind} `, badge);
    e.summary.textContent = it.summary || '';
    const rows = [];
    const names = this._names;
    if (it.place) {
      const country = it.place.country ? `, ${names(it.place.country)}` : '';
      rows.push([t.place, `${it.place.name}${country}`]);
    }
    if (it.participants && it.participants.length) rows.push([t.participants, it.participants.map(names).join(', ')]);
    if (it.tags && it.tags.length) rows.push([t.tags, it.tags.join(', ')]);
    if (it.sources && it.sources.length) rows.push([t.sources, this._sources(it.sources)]);
    e.meta.replaceChildren(...rows.flatMap(([term, value]) => [el('dt', '', term), typeof value === 'string' ? el('dd', '', value) : value]));
    // a calendar cannot show an open-ended period, so the feed has no event for one
    this._link(e.page, it.links && it.links.page);
    // no calendar event for 31 December 9999 either: its DTEND would be year 10000
    this._link(e.ics, f.s != null && f.e != null && it.date.end < '9999-12-31' && it.links && it.links.ics);
    this._link(e.sub, feedUrl(this._apiUrl).replace(/^https?:/, 'webcal:'));
    e.panel.hidden = false;
    e.live.textContent = `${t.details}: ${it.title}, ${it.date.label}, ${status}`;
    this.dispatchEvent(new CustomEvent('timeline-select', { bubbles: true, detail: { id: f.id } }));
  }

  _sources(sources) {
    const dd = el('dd'), ul = el('ul');
    for (const s of sources) {
      const li = el('li');
      const href = s.url && safeHref(s.url);
      const title = href ? el('a', '', s.title) : el('span', '', s.title);
      if (href) {
        title.href = href;
        title.target = '_blank';
        title.rel = 'noopener noreferrer';
      }
      const where = [s.date, s.locator].filter(Boolean).join(', ');
      li.append(title, where ? ` (${where})` : '');
      if (s.note) li.append(el('div', 'd', s.note));
      ul.append(li);
    }
    dd.append(ul);
    return dd;
  }

  _link(a, url) {
    const href = url && safeHref(url, this._apiUrl);
    if (href) a.href = href;
    else a.removeAttribute('href');
    a.hidden = !href;
  }

  _close(refocus) {
    const e = this._el;
    if (e.panel.hidden) return;
    e.panel.hidden = true;
    delete e.panel.dataset.factId;
    e.live.textContent = '';
    for (const b of this._buttonsOf(this._selected)) b.setAttribute('aria-expanded', 'false');
    const was = this._selected;
    this._selected = null;
    if (refocus && was && this._shown.has(was)) this._setCurrent(was, true);
  }
}

// Defined once, however many times the script is included.
if (window.customElements && !customElements.get(NAME)) customElements.define(NAME, EventTimeline);
