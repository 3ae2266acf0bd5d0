/* Client-side search over KW_SEARCH_INDEX ([name, href, what] rows, search-index.js).
   search.html?q=TEXT shows the matches on load: exact names first, then prefixes, then
   substrings, at most 200. */
(function () {
  'use strict';
  var input = document.getElementById('q');
  var list = document.getElementById('search-results');
  var status = document.getElementById('search-status');
  if (!input || !list || typeof KW_SEARCH_INDEX === 'undefined')
    return;

  function show(query) {
    var q = query.trim().toLowerCase();
    list.textContent = '';
    if (!q) {
      status.textContent = 'Type a name: functions, types, macros, messages, structs, error codes.';
      return;
    }
    var hits = [];
    KW_SEARCH_INDEX.forEach(function (row) {
      var name = row[0].toLowerCase();
      var rank = name === q ? 0 : name.indexOf(q) === 0 ? 1 : name.indexOf(q) > 0 ? 2 : -1;
      if (rank >= 0)
        hits.push([rank, row]);
    });
    hits.sort(function (a, b) {
      return a[0] - b[0] || a[1][0].length - b[1][0].length || (a[1][0] < b[1][0] ? -1 : 1);
    });
    status.textContent = hits.length + (hits.length === 1 ? ' match' : ' matches') + ' for "' + query.trim() + '"';
    hits.slice(0, 200).forEach(function (h) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = h[1][1];
      a.className = 'hit';
      var code = document.createElement('code');
      code.textContent = h[1][0];
      a.appendChild(code);
      li.appendChild(a);
      var what = document.createElement('span');
      what.className = 'what';
      what.textContent = h[1][2];
      li.appendChild(what);
      list.appendChild(li);
    });
  }

  var q = new URLSearchParams(window.location.search).get('q') || '';
  input.value = q;
  show(q);
  input.addEventListener('input', function () { show(input.value); });
})();
