// The widget's CSS, and how a shadow root gets it.

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
