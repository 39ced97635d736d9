// behalf: the one script of the pages, loaded from this origin (CSP
// script-src 'self', never inline). Every page works without it; with it,
// each <time data-local datetime="RFC 3339"> reads in the viewer's own time
// zone, each [data-countdown-to] counts down live, the notice after an
// action ([data-notice]) takes the focus so that a screen reader reads it,
// and a refused form's field comes into view with its message.
(function () {
  'use strict';

  var local = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'long', day: 'numeric',
    hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  });

  function plural(n, unit) { return n + ' ' + unit + (n === 1 ? '' : 's'); }

  // As the server words it: the two largest adjacent units ("1 hour 5 minutes").
  function words(seconds) {
    var parts = [
      [Math.floor(seconds / 86400), 'day'],
      [Math.floor(seconds % 86400 / 3600), 'hour'],
      [Math.floor(seconds % 3600 / 60), 'minute'],
      [seconds % 60, 'second'],
    ];
    var first = parts.findIndex(function (p) { return p[0] > 0; });
    if (first < 0) return plural(0, 'second');
    return parts.slice(first, first + 2)
      .filter(function (p) { return p[0] > 0; })
      .map(function (p) { return plural(p[0], p[1]); })
      .join(' ');
  }

  function showLocalTimes() {
    document.querySelectorAll('time[data-local][datetime]').forEach(function (el) {
      var when = new Date(el.getAttribute('datetime'));
      if (!isNaN(when.getTime())) el.textContent = local.format(when);
    });
  }

  function countDown() {
    var now = Date.now();
    document.querySelectorAll('[data-countdown-to]').forEach(function (el) {
      var until = new Date(el.getAttribute('data-countdown-to')).getTime();
      if (isNaN(until)) return;
      var left = Math.max(0, Math.floor((until - now) / 1000));
      el.textContent = left > 0 ? words(left) + ' left' : 'Time is up: this access has ended';
    });
  }

  function focusNotice() {
    var notice = document.querySelector('[data-notice]');
    if (notice && document.activeElement !== notice) notice.focus();
  }

  // A refused form: its field with the message comes into view whole (the
  // focus is already on the field, by autofocus).
  function showFieldError() {
    var message = document.querySelector('.field-error');
    if (!message) return;
    (message.closest('fieldset') || message.parentElement).scrollIntoView({ block: 'center' });
  }

  showLocalTimes();
  countDown();
  focusNotice();
  showFieldError();
  if (document.querySelector('[data-countdown-to]')) setInterval(countDown, 1000);
})();
