// The editors' workspace: two niceties over forms that work without this script.
// 1. A date field's label, live: what the EDTF typed reads as (the service's own words).
// 2. The evidence of the proposal being worked on, highlighted in the text beside it.
(() => {
  'use strict';
  const pending = new Map();
  const showLabel = async (input) => {
    const output = document.getElementById(input.dataset.edtf);
    if (!output) return;
    const value = input.value.trim();
    if (!value) { output.textContent = ''; return; }
    try {
      const response = await fetch(`/edit/date-label?edtf=${encodeURIComponent(value)}`, {
        headers: { Accept: 'application/json' },
      });
      const body = await response.json();
      if (input.value.trim() !== value) return; // typed on since: a later answer follows
      output.textContent = body.label || `not a date: ${body.error}`;
      output.classList.toggle('invalid', !body.label);
    } catch (_) {
      // Offline or refused: the label stays as the page gave it.
    }
  };
  for (const input of document.querySelectorAll('input[data-edtf]')) {
    input.addEventListener('input', () => {
      clearTimeout(pending.get(input));
      pending.set(input, setTimeout(() => showLabel(input), 200));
    });
  }

  const current = (id) => {
    for (const mark of document.querySelectorAll('mark.current')) mark.classList.remove('current');
    let mark = id && document.getElementById(`evidence-${id}`);
    if (mark && mark.dataset.mark) mark = document.getElementById(mark.dataset.mark); // shared
    if (!mark) return;
    mark.classList.add('current');
    // Bring the evidence into view in the text's own scrolling column, not the page.
    const column = mark.closest('section.text');
    if (column && column.scrollHeight > column.clientHeight) {
      const top = mark.getBoundingClientRect().top - column.getBoundingClientRect().top;
      column.scrollTop += top - column.clientHeight / 3;
    }
  };
  for (const card of document.querySelectorAll('article.proposal')) {
    card.addEventListener('focusin', () => current(card.dataset.proposal));
    card.addEventListener('mouseenter', () => current(card.dataset.proposal));
  }
  if (location.hash.startsWith('#proposal-')) current(location.hash.slice('#proposal-'.length));
})();
