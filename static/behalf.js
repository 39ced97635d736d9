// behalf: the one script of the pages, loaded from this origin (CSP
// script-src 'self', never inline). Every page works without it; with it,
// each <time data-local datetime="RFC 3339"> reads in the viewer's own time
// zone, each [data-countdown-to] counts down live, the notice after an
// action ([data-notice]) takes the focus so that a screen reader reads it,
// a refused form's field comes into view with its message, and on the
// support console ([data-console-state]) the lists follow /console/state
// every few seconds without a reload (drawn with textContent, never HTML).
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

  // ---------------------------------------------------------------------
  // The support console: each list ([data-list]) is drawn again from the
  // state's cards (src/delegation/console/view.rs) when its cards or their
  // statuses change, as templates/console_lists.html draws them.

  var POLL_MS = 3000;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function timeEl(at) {
    return el('time', { datetime: at.datetime, 'data-local': '' }, at.utc);
  }

  function cardEl(list, card, csrf) {
    var section = el('section', {
      class: list.name === 'ended' ? 'card ended' : 'card',
      'aria-labelledby': card.kind + '-' + card.id,
      'data-status': card.status,
    });
    section.setAttribute('data-' + card.kind + '-id', card.id);
    section.appendChild(el('h3', { id: card.kind + '-' + card.id }, card.heading));
    if (card.left) {
      var left = el('p', { class: 'left' });
      left.appendChild(el('strong', { 'data-countdown-to': card.left.until }, card.left.text));
      section.appendChild(left);
    }
    var facts = el('dl', { class: 'facts' });
    card.facts.forEach(function (fact) {
      facts.appendChild(el('dt', {}, fact.term));
      var dd = el('dd');
      if (fact.time) {
        dd.appendChild(timeEl(fact.time));
      } else if (fact.items.length > 0) {
        var ul = el('ul');
        fact.items.forEach(function (item) { ul.appendChild(el('li', {}, item)); });
        dd.appendChild(ul);
      } else {
        dd.textContent = fact.text;
      }
      facts.appendChild(dd);
    });
    section.appendChild(facts);
    if (card.links.length > 0) {
      var links = el('ul', { class: 'links' });
      card.links.forEach(function (link) {
        var li = el('li');
        li.appendChild(el('a', { href: link.href }, link.text));
        links.appendChild(li);
      });
      section.appendChild(links);
    }
    if (card.action) {
      var form = el('form', { method: 'post', action: card.action.path });
      form.appendChild(el('input', { type: 'hidden', name: 'csrf_token', value: csrf }));
      var button = el('button', { type: 'submit', class: card.action.class }, card.action.text);
      button.appendChild(el('span', { class: 'visually-hidden' }, card.action.hidden));
      form.appendChild(button);
      section.appendChild(form);
    }
    return section;
  }

  function pagerEl(list) {
    var nav = el('nav', { class: 'pager', 'aria-label': 'Pages of ' + list.title });
    if (list.first) nav.appendChild(el('a', { href: list.first.href }, list.first.text));
    if (list.more) nav.appendChild(el('a', { href: list.more.href, rel: 'next' }, list.more.text));
    return nav;
  }

  // What a list shows, as far as a redraw is concerned: its cards, their statuses, its pages.
  function signature(list) {
    var cards = list.cards.map(function (c) { return c.kind + ':' + c.id + ':' + c.status; });
    return cards.join(' ') + '|' + (list.more ? list.more.href : '') + '|' + (list.first ? list.first.href : '');
  }

  function shownSignature(box) {
    var cards = Array.prototype.map.call(box.querySelectorAll('section[data-status]'), function (s) {
      var kind = s.hasAttribute('data-request-id') ? 'request' : 'grant';
      return kind + ':' + s.getAttribute('data-' + kind + '-id') + ':' + s.getAttribute('data-status');
    });
    var more = box.querySelector('.pager a[rel="next"]');
    var first = box.querySelector('.pager a:not([rel])');
    return cards.join(' ') + '|' + (more ? more.getAttribute('href') : '') + '|' + (first ? first.getAttribute('href') : '');
  }

  // The form action of the focused button, to give the focus back after a redraw.
  function focusedAction(box) {
    var active = document.activeElement;
    if (!active || !box.contains(active)) return null;
    var form = active.closest('form');
    return form ? form.getAttribute('action') : '';
  }

  function draw(box, list, csrf) {
    if (shownSignature(box) === signature(list)) return false;
    var action = focusedAction(box);
    var nodes = list.cards.map(function (card) { return cardEl(list, card, csrf); });
    if (nodes.length === 0) nodes.push(el('p', {}, list.empty));
    if (list.more || list.first) nodes.push(pagerEl(list));
    box.replaceChildren.apply(box, nodes);
    if (action !== null) {
      var again = action && box.querySelector('form[action="' + CSS.escape(action) + '"] button');
      (again || document.getElementById('list-' + list.name) || box).focus({ preventScroll: true });
    }
    return true;
  }

  function followConsole() {
    var root = document.querySelector('[data-console-state]');
    if (!root || !window.fetch) return;
    var url = root.getAttribute('data-console-state');
    var token = document.querySelector('input[name="csrf_token"]');
    var csrf = token ? token.value : '';
    var news = root.querySelector('[data-console-news]');
    var busy = false;
    function poll() {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (state) {
          if (!state) return;
          var changed = [];
          ['waiting', 'access', 'ended'].forEach(function (name) {
            var box = root.querySelector('[data-list="' + name + '"]');
            if (box && state[name] && draw(box, state[name], csrf)) {
              changed.push(state[name].title + ': ' + state[name].cards.length);
            }
          });
          if (changed.length > 0) {
            showLocalTimes();
            countDown();
            if (news) news.textContent = 'Updated. ' + changed.join('; ') + '.';
          }
        })
        .catch(function () {})
        .then(function () { busy = false; });
    }
    setInterval(poll, POLL_MS);
  }

  showLocalTimes();
  countDown();
  focusNotice();
  showFieldError();
  followConsole();
  if (document.querySelector('[data-countdown-to]') || document.querySelector('[data-console-state]')) {
    setInterval(countDown, 1000);
  }
})();
