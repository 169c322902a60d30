// The words the widget shows, per language: one entry per language, the same keys in each.

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
      held: 'состоялось', planned: 'запланировано', proposed: 'предложено', postponed: 'перенесено',
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
