/*! <event-timeline>: the timeline service's embeddable widget. No dependencies, no build step.
 *  <script src="https://HOST/widget.js" defer></script>
 *  <event-timeline country="KZ" lang="en"></event-timeline>
 * Fact text only ever reaches the page through textContent, attributes and Option(): never as HTML.
 * Key, wheel and pointer handlers sit on the widget's own shadow tree, never on the host document.
 */
(() => {
  'use strict';
  const NAME = 'event-timeline';
  if (!window.customElements || customElements.get(NAME)) return;

  const SCRIPT_URL = document.currentScript && document.currentScript.src;
  const DAY = 864e5;
  const PAD = 24; // px before the first and after the last day
  const AXIS = 30; // axis height, px
  const LANE = 70; // one row of facts, px: a fact's box is 4 px less (it clips, see CSS)
  const AUTO_MAX = 720; // the default height follows the content up to this, px
  const MORE = 30; // the "more below" bar, px
  const LABEL_MAX = 240; // a fact's text wraps (the title, to two lines) at this width, px
  const PPD_MAX = 60; // closest zoom, px per day
  const NARROW = 560; // below this width (px) the agenda list is the default view
  const MAX_PAGES = 10; // of 1000 facts each
  const FILTERS = ['from', 'to', 'country', 'tag', 'status', 'kind'];
  const FEED_FILTERS = ['country', 'tag', 'status', 'kind', 'lang'];
  const STATUSES = ['held', 'planned', 'proposed', 'postponed', 'cancelled', 'elapsed'];
  const ZOOM_KEYS = { '+': 1.5, '=': 1.5, '-': 1 / 1.5, _: 1 / 1.5 };
  const MOVE_KEYS = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
  // Tick steps: [count, unit], unit d(ay), m(onth) or y(ear); the first at least 80 px apart is used.
  const STEPS = [[1, 'd'], [7, 'd'], [1, 'm'], [3, 'm'], [6, 'm'], [1, 'y'], [2, 'y'], [5, 'y'],
    [10, 'y'], [20, 'y'], [50, 'y'], [100, 'y'], [250, 'y'], [500, 'y'], [1000, 'y']];
  const UNIT_DAYS = { d: 1, m: 30.44, y: 365.25 };

  const STRINGS = {
    en: {
      region: 'Timeline', facts: 'Events', loading: 'Loading…', failed: 'Could not load the timeline',
      retry: 'Retry', empty: 'No events match.', zoomIn: 'Zoom in', zoomOut: 'Zoom out',
      fit: 'Show the whole period', earlier: 'Earlier', later: 'Later', list: 'List view',
      country: 'Country', allCountries: 'All countries', close: 'Close', details: 'Details',
      place: 'Place', participants: 'Participants', sources: 'Sources', tags: 'Tags',
      ics: 'Add to calendar', subscribe: 'Subscribe to this timeline', approx: 'approximate date',
      today: 'today', hint: 'Ctrl + wheel zooms, arrow keys move between events', more: (n) => `↓ ${n} more`,
      count: (n, all) => (n === all ? '' : `${n} of `) + `${all} ${all === 1 ? 'event' : 'events'}`,
      status: {
        held: 'held', planned: 'planned', proposed: 'proposed', postponed: 'postponed',
        cancelled: 'cancelled', elapsed: 'date passed, outcome unknown',
      },
      kind: {},
    },
    ru: {
      region: 'Хронология', facts: 'События', loading: 'Загрузка…', failed: 'Не удалось загрузить хронологию',
      retry: 'Повторить', empty: 'Нет подходящих событий.', zoomIn: 'Приблизить', zoomOut: 'Отдалить',
      fit: 'Показать весь период', earlier: 'Раньше', later: 'Позже', list: 'Списком',
      country: 'Страна', allCountries: 'Все страны', close: 'Закрыть', details: 'Подробности',
      place: 'Место', participants: 'Участники', sources: 'Источники', tags: 'Метки',
      ics: 'Добавить в календарь', subscribe: 'Подписаться на эту хронологию', approx: 'приблизительная дата',
      today: 'сегодня', hint: 'Ctrl + колесо меняет масштаб, стрелки переходят между событиями', more: (n) => `↓ ещё ${n}`,
      count: (n, all) => (n === all ? '' : `${n} из `) + `${all} ${ruEvents(all)}`,
      status: {
        held: 'состоялось', planned: 'запланировано', proposed: 'предложено', postponed: 'отложено',
        cancelled: 'отменено', elapsed: 'дата прошла, итог неизвестен',
      },
      kind: {
        summit: 'саммит', meeting: 'встреча', conference: 'конференция', treaty: 'договор',
        agreement: 'соглашение', roundtable: 'круглый стол', initiative: 'инициатива',
        programme: 'программа', document: 'документ', visit: 'визит', forum: 'форум',
        election: 'выборы', other: 'другое',
      },
    },
  };

  function ruEvents(n) {
    const d = n % 10, h = n % 100;
    if (d === 1 && h !== 11) return 'событие';
    return d >= 2 && d <= 4 && (h < 12 || h > 14) ? 'события' : 'событий';
  }

  const LIGHT = '--_bg:var(--et-bg,#fff);--_fg:var(--et-fg,#1f2328);--_muted:var(--et-muted,#59636e);' +
    '--_line:var(--et-line,#d1d9e0);--_accent:var(--et-accent,#0b57d0);--_focus:var(--et-focus,#0b57d0);' +
    '--_held:var(--et-held,#1a7f37);--_planned:var(--et-planned,#0b57d0);--_proposed:var(--et-proposed,#8250df);' +
    '--_postponed:var(--et-postponed,#9a6700);--_cancelled:var(--et-cancelled,#cf222e);' +
    '--_elapsed:var(--et-elapsed,#6e7781);color-scheme:light';
  const DARK = '--_bg:var(--et-bg,#0d1117);--_fg:var(--et-fg,#e6edf3);--_muted:var(--et-muted,#9198a1);' +
    '--_line:var(--et-line,#3d444d);--_accent:var(--et-accent,#79b8ff);--_focus:var(--et-focus,#79b8ff);' +
    '--_held:var(--et-held,#3fb950);--_planned:var(--et-planned,#58a6ff);--_proposed:var(--et-proposed,#bc8cff);' +
    '--_postponed:var(--et-postponed,#d29922);--_cancelled:var(--et-cancelled,#ff7b72);' +
    '--_elapsed:var(--et-elapsed,#9198a1);color-scheme:dark';
  const FADED = 'color-mix(in srgb,var(--c) 30%,transparent)';
  const CSS = `
:host{all:initial;display:block;${LIGHT}}
:host([theme=dark]){${DARK}}
@media (prefers-color-scheme:dark){:host(:not([theme=light])){${DARK}}}
*{box-sizing:border-box}
[hidden]{display:none!important}
.root{position:relative;display:flex;flex-direction:column;height:var(--_h,var(--et-height,var(--_auto,480px)));
 overflow:hidden;background:var(--_bg);color:var(--_fg);border:1px solid var(--_line);
 border-radius:var(--et-radius,8px);font:var(--et-font-size,14px)/1.4 var(--et-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif)}
button,select,a{font:inherit;color:inherit}
button,select{background:var(--_bg);border:1px solid var(--_line);border-radius:6px;min-height:28px;padding:0 8px;cursor:pointer}
a{color:var(--_accent)}
:focus{outline:none}
:focus-visible{outline:3px solid var(--_focus);outline-offset:1px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.bar,.legend{display:flex;align-items:center;gap:6px;padding:6px 8px;border-bottom:1px solid var(--_line);white-space:nowrap}
.count{margin-right:auto;color:var(--_muted)}
.bar label{min-width:4em;flex:0 1 auto}.country{width:100%}
.legend{flex-wrap:wrap}
.zoom{display:inline-flex;gap:2px}
.zoom button{min-width:30px;padding:0}
.bar [aria-pressed=true]{background:var(--_accent);border-color:var(--_accent);color:var(--_bg)}
.legend{gap:2px 12px;font-size:.85em;padding:3px 8px}
.legend button{border:0;min-height:24px;padding:0 2px;display:inline-flex;align-items:center;gap:5px}
.legend button[aria-pressed=false]{opacity:.5;text-decoration:line-through}
.legend .mark{width:22px;margin:0}
.legend .hint{margin-left:auto;color:var(--_muted)}
.listed .zoom,.listed .hint{display:none}
.main{position:relative;flex:1;min-height:0}
.view{position:absolute;inset:0;overflow:auto;scroll-padding:${AXIS + 4}px 8px 8px}
.axisview{cursor:grab;scrollbar-gutter:stable} /* the fit stays the fit when rows overflow */
.axisview.drag{cursor:grabbing;user-select:none}
.canvas{position:relative;min-width:100%}
.axis{position:sticky;top:0;height:${AXIS}px;z-index:2;background:var(--_bg);border-bottom:1px solid var(--_line)}
.tick{position:absolute;top:0;height:100%;padding:6px 0 0 4px;border-left:1px solid var(--_line);color:var(--_muted);font-size:.8em;white-space:nowrap}
.today{position:absolute;top:0;bottom:0;border-left:2px dashed var(--_accent);opacity:.5;pointer-events:none}
ul{list-style:none;margin:0;padding:0}
.facts>li{position:absolute;left:0;top:0;height:${LANE - 4}px;content-visibility:auto;contain-intrinsic-size:auto ${LANE - 4}px}
.facts>li:hover,.facts>li:focus-within{content-visibility:visible;z-index:3;height:auto;min-height:${LANE - 4}px}
li:hover>.fact,li:focus-within>.fact{background:var(--_bg);box-shadow:0 2px 8px rgb(0 0 0/.2)}
.listview li{content-visibility:auto;contain-intrinsic-size:auto 72px}
.fact:focus-visible,.row:focus-visible{outline-offset:-3px} /* inside the contained box */
.fact{display:block;width:100%;height:100%;padding:0 2px;border:0;border-radius:4px;background:none;text-align:left;color:var(--_fg)}
.fact:hover .t{text-decoration:underline}
.fact[aria-expanded=true],.row[aria-expanded=true]{background:color-mix(in srgb,var(--_accent) 14%,transparent)}
.mark{display:block;height:12px;min-width:12px;margin:2px 0;border:2px solid var(--c);border-radius:6px;background:var(--c)}
.t,.d{display:block;max-width:${LABEL_MAX}px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;line-height:1.25}
.t{font-weight:600}
.fact .t{white-space:normal;display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2} /* whole on hover, focus */
.fact:hover .t,.fact:focus .t{-webkit-line-clamp:none}
.long .t,.long .d{position:sticky;left:4px} /* a long bar keeps its label in view */
.d{color:var(--_muted);font-size:.85em}
.s-held{--c:var(--_held)}.s-planned{--c:var(--_planned)}.s-proposed{--c:var(--_proposed)}
.s-postponed{--c:var(--_postponed)}.s-cancelled{--c:var(--_cancelled)}.s-elapsed{--c:var(--_elapsed)}
.s-planned .mark,.s-proposed .mark,.s-elapsed .mark{background:var(--_bg)}
.s-proposed .mark{border-style:dashed}.s-elapsed .mark{border-style:dotted}
.s-postponed .mark{background:repeating-linear-gradient(135deg,var(--c) 0 2px,transparent 2px 6px)}
.s-cancelled .t{text-decoration:line-through}.s-elapsed .t{font-style:italic}
.approx .mark{border-radius:0;border-width:0 3px;border-style:solid;background:${FADED}}
.open-start .mark{border-left-color:transparent;background:linear-gradient(90deg,transparent,${FADED} 48px)}
.open-end .mark{border-right-color:transparent;background:linear-gradient(270deg,transparent,${FADED} 48px)}
.listview{padding:0 8px 8px}
.listview h3{position:sticky;top:0;z-index:1;margin:0;padding:8px 0 4px;background:var(--_bg);border-bottom:1px solid var(--_line);color:var(--_muted);font-size:.9em}
.row{display:grid;grid-template-columns:16px 1fr;column-gap:8px;width:100%;padding:8px 4px;border:0;border-bottom:1px solid var(--_line);border-radius:0;background:none;text-align:left}
.row .mark{grid-row:span 2;width:14px;height:14px;margin-top:1px}
.row .t,.row .d{max-width:none;white-space:normal}
.more{flex:none;height:${MORE}px;border:0;border-top:1px solid var(--_line);border-radius:0 0 8px 8px;color:var(--_accent);font-weight:600}
.msg{position:absolute;inset:0;display:flex;flex-direction:column;gap:8px;align-items:center;justify-content:center;margin:0;color:var(--_muted)}
.panel{position:absolute;top:0;right:0;bottom:0;z-index:5;width:min(24rem,100%);overflow:auto;padding:12px 16px;background:var(--et-panel-bg,var(--_bg));border-left:1px solid var(--_line);box-shadow:-6px 0 18px rgb(0 0 0/.15)}
.panel h2{margin:0 36px 6px 0;font-size:1.15em}
.panel .close{position:absolute;top:8px;right:8px;min-width:30px;padding:0}
.panel p{margin:6px 0}
.badge{display:inline-block;padding:0 6px;border:1px solid var(--c);border-radius:9px;color:var(--c);font-size:.85em}
.panel dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:10px 0}
.panel dt{color:var(--_muted)}.panel dd{margin:0;min-width:0}
.panel{overflow-wrap:anywhere}.panel .d{max-width:none;white-space:normal}
.panel dd li+li{margin-top:4px}
.links{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
.links a{padding:4px 10px;border:1px solid var(--_accent);border-radius:6px;text-decoration:none}
@media (prefers-reduced-motion:no-preference){
 .panel{animation:et-slide .2s ease-out}
 .fact,.row{transition:background-color .15s}
}
@keyframes et-slide{from{transform:translateX(24px);opacity:0}}
@media (forced-colors:active){.mark{forced-color-adjust:none}}
`;

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

  let sheet = null;
  function adoptStyles(root) {
    // A constructed sheet is shared by every instance and passes a page's CSP style-src.
    if (root.adoptedStyleSheets && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement('style');
      style.textContent = CSS;
      root.append(style);
    }
  }

  // --- small helpers ------------------------------------------------------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

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

  function setHeight(root, value) {
    const v = (value || '').trim();
    if (/^\d+(\.\d+)?$/.test(v)) root.style.setProperty('--_h', `${v}px`);
    else if (/^\d+(\.\d+)?(px|em|rem|vh|svh|dvh|%)$/.test(v)) root.style.setProperty('--_h', v);
    else root.style.removeProperty('--_h');
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

  // --- the element --------------------------------------------------------------------------

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
      this._facts = [];
      this._visible = [];
      this._byId = new Map();
      this._statusOff = new Set();
      this._country = '';
      this._view = 'axis';
      this._chosenView = null; // set once the reader picks a view
      this._current = null; // the fact that takes Tab focus (roving tabindex)
      this._selected = null; // the fact shown in the panel
      this._bind();
    }

    connectedCallback() {
      if (window.ResizeObserver && !this._resize) {
        this._resize = new ResizeObserver((entries) => this._onResize(entries[0].contentRect.width));
      }
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
      const url = new URL(src, document.baseURI);
      for (const name of FILTERS) {
        const raw = (this.getAttribute(name) || '').trim();
        if (!raw) continue;
        url.searchParams.delete(name);
        let values = raw.split(/[\s,]+/).filter(Boolean);
        if (name === 'from' || name === 'to') {
          values = [/^\d{4}$/.test(raw) ? raw + (name === 'from' ? '-01-01' : '-12-31') : raw];
        }
        for (const value of values) url.searchParams.append(name, value);
      }
      url.searchParams.set('lang', this._lang());
      if (!url.searchParams.has('limit')) url.searchParams.set('limit', '1000');
      return url;
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
      const t = this._t;
      this._loaded = true;
      this._close(false);
      this._facts = items.map(toFact);
      this._byId = new Map(this._facts.map((f) => [f.id, f]));
      this._names = regionNames(this._lang());
      // The axis spans the facts with both ends known (an open end would stretch it over
      // years of nothing; it fades out past the edge instead), or exactly `from`–`to`.
      let lo = Infinity, hi = -Infinity;
      const closed = this._facts.filter((f) => f.s != null && f.e != null);
      for (const f of closed.length ? closed : this._facts) {
        lo = Math.min(lo, f.s != null ? f.s : f.e - 1);
        hi = Math.max(hi, f.e != null ? f.e : f.s + 1);
      }
      if (!this._facts.length) {
        lo = utcDay(new Date().getUTCFullYear(), 0, 1);
        hi = lo + 365;
      }
      const margin = Math.max(15, (hi - lo) * 0.03);
      const from = this._bound('from'), to = this._bound('to');
      this._lo = from != null ? from : Math.floor(lo - margin);
      this._hi = to != null ? to + 1 : Math.ceil(hi + margin);
      if (this._hi <= this._lo) this._hi = this._lo + 1;
      this._fillCountries();
      this._fillLegend();
      this._rendered = { axis: false, list: false };
      this._el.facts.replaceChildren();
      this._el.listView.replaceChildren();
      this._current = null;
      this._message(this._facts.length ? '' : t.empty);
      this._applyFilters(true);
      this._setView(this._chosenView || this._defaultView(), true);
    }

    // The first or last day (`from`, `to` attributes: a year or a date), or null.
    _bound(name) {
      const v = (this.getAttribute(name) || '').trim();
      if (/^\d{4}$/.test(v)) return name === 'from' ? utcDay(+v, 0, 1) : utcDay(+v, 11, 31);
      return /^\d{4}-\d\d-\d\d$/.test(v) ? dayOf(v) : null;
    }

    _fillCountries() {
      const e = this._el, names = this._names;
      const codes = new Set();
      for (const f of this._facts) for (const c of f.countries) codes.add(c);
      // Narrowed by the `country` attribute, "all" is those countries, not all countries.
      const chosen = (this.getAttribute('country') || '').toUpperCase().split(/[\s,]+/).filter((c) => codes.has(c));
      const few = codes.size < 2;
      if (chosen.length === 1) codes.delete(chosen[0]); // the same as the first option
      const label = (c) => (names(c) === c ? c : `${names(c)} (${c})`);
      const sorted = [...codes].map((c) => [names(c), c]).sort((a, b) => a[0].localeCompare(b[0]));
      const options = [new Option(chosen.length ? chosen.map(label).join(', ') : this._t.allCountries, '')];
      for (const [, code] of sorted) options.push(new Option(label(code), code));
      e.country.replaceChildren(...options);
      if (!codes.has(this._country)) this._country = '';
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
      this._visible = [];
      for (const f of this._facts) {
        const shown = (!country || f.countries.has(country)) && !off.has(f.item.status);
        if (shown) this._visible.push(f);
        f.hidden = !shown;
        if (f.li) f.li.hidden = !shown;
        if (f.row) f.row.hidden = !shown;
      }
      this._el.count.textContent = this._facts.length ? this._t.count(this._visible.length, this._facts.length) : '';
      if (this._selected && this._selected.hidden) this._close(false);
      if (!this._current || this._current.hidden) this._setCurrent(this._visible[0] || null, false);
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

    _factButton(f, cls) {
      const it = f.item, t = this._t;
      const status = t.status[it.status] || it.status;
      const row = cls === 'row';
      const button = el('button', `${cls} s-${it.status}${f.approx ? ' approx' : ''}` +
        (row && f.s == null ? ' open-start' : '') + (row && f.e == null ? ' open-end' : ''));
      button.type = 'button';
      button.tabIndex = -1;
      button.dataset.factId = f.id;
      button.setAttribute('aria-expanded', 'false');
      const label = it.date ? it.date.label : '';
      if (row) {
        const where = it.place ? ` · ${it.place.name}` : '';
        button.append(el('span', 'mark'), el('span', 'd', `${label} · ${status}${where}`), el('span', 't', it.title));
      } else {
        const mark = el('span', 'mark');
        f.mark = mark;
        button.append(mark, el('span', 't', it.title), el('span', 'd', `${label} · ${status}`));
        // width of the text, estimated: measuring 1,000 labels would cost a layout each
        f.textWidth = Math.min(LABEL_MAX, 7.5 * Math.max(it.title.length, label.length + status.length + 3) + 8);
      }
      if (f === this._current) button.tabIndex = 0;
      return button;
    }

    _renderAxis() {
      const frag = document.createDocumentFragment();
      for (const f of this._facts) {
        const li = document.createElement('li');
        li.hidden = !!f.hidden;
        f.axisButton = this._factButton(f, 'fact');
        li.append(f.axisButton);
        f.li = li;
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
        li.hidden = !!f.hidden;
        f.listButton = this._factButton(f, 'row');
        li.append(f.listButton);
        f.row = li;
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

    // Positions every visible fact at the current zoom and packs them into rows (lanes).
    _layout(left) {
      const ppd = this._ppd, lo = this._lo, hi = this._hi;
      const placed = [], full = PAD + (hi - lo) * ppd;
      for (const f of this._visible) {
        if (!f.li) continue;
        const point = !f.approx && f.e - f.s === 1;
        // cut at the axis's ends, and drawn fading out there: open, or going on past them
        const a = Math.min(hi - 1, f.s != null ? Math.max(lo, f.s) : lo);
        const b = Math.max(a + 1, f.e != null ? Math.min(hi, f.e) : hi);
        const cls = f.axisButton.classList;
        cls.toggle('open-start', !point && (f.s == null || f.s < lo));
        cls.toggle('open-end', !point && (f.e == null || f.e > hi));
        const x = point ? PAD + (a + 0.5 - lo) * ppd - 7 : PAD + (a - lo) * ppd;
        const bar = point ? 14 : Math.max(14, (b - a) * ppd);
        const width = Math.max(bar, f.textWidth);
        const at = Math.max(0, Math.min(x, full - width)); // a label near the end goes left of its mark
        placed.push({ f, x: at, shift: x - at, bar, width });
      }
      placed.sort((p, q) => p.x - q.x);
      const lanes = []; // right edge of each lane
      let right = 0;
      for (const p of placed) {
        let lane = lanes.findIndex((edge) => edge <= p.x);
        if (lane < 0) lane = lanes.push(0) - 1;
        lanes[lane] = p.x + p.width + 12;
        right = Math.max(right, p.x + p.width);
        p.f.lane = lane;
        p.f.li.style.transform = `translate(${p.x.toFixed(1)}px,${AXIS + 8 + lane * LANE}px)`;
        p.f.li.style.width = `${p.width.toFixed(1)}px`;
        p.f.mark.style.width = `${p.bar.toFixed(1)}px`;
        p.f.mark.style.marginLeft = `${p.shift.toFixed(1)}px`;
        const long = p.bar > p.f.textWidth + 40;
        if (long !== !!p.f.long) p.f.axisButton.classList.toggle('long', (p.f.long = long));
      }
      const canvas = this._el.canvas;
      canvas.style.width = `${Math.ceil(Math.max(PAD * 2 + (hi - lo) * ppd, right + PAD))}px`;
      canvas.style.height = `${AXIS + 16 + lanes.length * LANE}px`;
      this._lanes = lanes.length;
      this._ticks(left);
      this._autoHeight();
    }

    // Default height: the content's up to AUTO_MAX, then whole rows and the more-bar.
    // A `height` attribute or --et-height wins (CSS).
    _autoHeight() {
      const e = this._el, list = this._view === 'list';
      const view = list ? e.listView : e.axisView;
      const chrome = this._chrome;
      const rows = (n) => AXIS + 8 + n * LANE + (this._fitted ? 0 : this._gutter || 0); // zoomed: a scrollbar
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
      let n = 0, i = 0;
      for (const f of this._visible) {
        i++;
        if (!list) n += f.li && AXIS + 4 + (f.lane + 1) * LANE > bottom ? 1 : 0;
        else if (f.row && f.row.offsetTop + f.row.offsetHeight > bottom) {
          n = this._visible.length - i + 1; // rows run in order: this one and all after it
          break;
        }
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
      if (!this._rendered || !this._rendered.axis || this._view !== 'axis') return;
      const ppd = this._ppd, lo = this._lo, width = this._width;
      const scrolled = left != null ? left : this._el.axisView.scrollLeft;
      const first = lo + (scrolled - PAD - width) / ppd;
      const last = lo + (scrolled - PAD + 2 * width) / ppd;
      const [n, unit] = STEPS.find(([k, u]) => k * UNIT_DAYS[u] * ppd >= 80) || STEPS[STEPS.length - 1];
      const lang = this._lang();
      const fmt = unit === 'y' ? null : new Intl.DateTimeFormat(lang, unit === 'm'
        ? { month: 'short', year: 'numeric', timeZone: 'UTC' }
        : { day: 'numeric', month: 'short', timeZone: 'UTC' });
      const start = dateOf(Math.max(lo, Math.floor(first)));
      let y = start.getUTCFullYear(), m = unit === 'm' ? start.getUTCMonth() - (start.getUTCMonth() % n) : 0;
      let d = unit === 'd' ? Math.max(lo, Math.floor(first)) : 0;
      if (unit === 'y') y -= ((y % n) + n) % n;
      const frag = document.createDocumentFragment();
      for (let i = 0; i < 400; i++) {
        const day = unit === 'y' ? utcDay(y, 0, 1) : unit === 'm' ? utcDay(y, m, 1) : d;
        if (day > Math.min(last, this._hi - 1)) break; // none at the very end: it would stick out
        if (day >= lo) {
          const tick = el('div', 'tick', unit === 'y' ? String(y) : fmt.format(dateOf(day)));
          tick.style.left = `${(PAD + (day - lo) * ppd).toFixed(1)}px`;
          frag.append(tick);
        }
        if (unit === 'y') y += n;
        else if (unit === 'm') {
          m += n;
          if (m > 11) (y += Math.floor(m / 12)), (m %= 12);
        } else d += n;
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
      if (!this._rendered || !this._rendered.axis) return;
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
      return f ? [f.axisButton, f.listButton].filter(Boolean) : [];
    }

    _setCurrent(f, focus) {
      for (const b of this._buttonsOf(this._current)) b.tabIndex = -1;
      this._current = f;
      for (const b of this._buttonsOf(f)) b.tabIndex = 0;
      if (focus && f) {
        const button = this._view === 'list' ? f.listButton : f.axisButton;
        if (button) button.focus();
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
      this._link(e.sub, this._feedUrl().replace(/^https?:/, 'webcal:'));
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

    // The calendar feed with the widget's own filters: what "subscribe" subscribes to.
    _feedUrl() {
      const api = this._apiUrl;
      const path = /api\/v1\/timeline$/.test(api.pathname)
        ? api.pathname.replace(/api\/v1\/timeline$/, 'calendar.ics') : '/calendar.ics';
      const feed = new URL(path, api);
      for (const name of FEED_FILTERS) for (const v of api.searchParams.getAll(name)) feed.searchParams.append(name, v);
      return feed.href;
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
      if (refocus && was && !was.hidden) this._setCurrent(was, true);
    }
  }

  customElements.define(NAME, EventTimeline);
})();
