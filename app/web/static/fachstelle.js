/* Fachstelle: type-ahead references, German date pickers, street picker, duplicate warning. */
$(function () {
  $.fn.datepicker && $('.fs-date').datepicker({format: 'dd.mm.yyyy', weekStart: 1, autoclose: true,
    forceParse: false, todayHighlight: true});

  $('select.fs-typeahead').each(function () {
    var el = $(this);
    el.select2({
      theme: 'bootstrap', allowClear: true, minimumInputLength: 0,
      placeholder: el.data('placeholder') || 'Tippen zum Suchen …',
      language: {inputTooShort: function () { return 'Bitte mehr eingeben'; },
                 noResults: function () { return 'Keine Treffer'; },
                 searching: function () { return 'Suche …'; }},
      ajax: {url: el.data('endpoint'), dataType: 'json', delay: 200,
             data: function (p) { return {q: p.term || ''}; },
             processResults: function (d) { return {results: d.results}; }}
    });
  });

  // Street picker: suggestions from the street directory, free entry stays possible.
  $('input[name="street"]').each(function () {
    var input = $(this), list = $('<datalist id="fs-streets"></datalist>'), found = {};
    input.attr('list', 'fs-streets').attr('autocomplete', 'off').after(list);
    input.on('input', function () {
      $.getJSON('/typeahead-street', {q: input.val()}, function (d) {
        list.empty(); found = {};
        d.results.forEach(function (s) {
          found[s.street] = s;
          list.append($('<option>').attr('value', s.street).text(s.text));
        });
      });
    });
    input.on('change', function () {
      var s = found[input.val()];
      if (!s) { return; }
      var form = input.closest('form');
      [['postcode', s.postcode], ['city', s.city], ['district', s.district]].forEach(function (kv) {
        var f = form.find('[name="' + kv[0] + '"]');
        if (f.length && !f.val()) { f.val(kv[1]); }
      });
    });
  });

  // Duplicate warning on the partner form.
  var surname = $('form input[name="surname"]');
  if (surname.length && $('form input[name="birth_date"]').length) {
    var form = surname.closest('form'), box = $('<div class="alert alert-warning fs-dup-warning" role="alert" style="display:none"></div>');
    surname.closest('.form-group, tr, div').first().after(box);
    var check = function () {
      var m = window.location.pathname.match(/\/edit\/(\d+)/);
      $.getJSON('/partner-duplicates', {surname: surname.val(), first_name: form.find('[name="first_name"]').val(),
                 birth_date: form.find('[name="birth_date"]').val(), exclude: m ? m[1] : ''}, function (d) {
        if (!d.results.length) { box.hide().empty(); return; }
        box.empty().append($('<strong>').text('Möglicher Doppelsatz: '));
        d.results.forEach(function (r, i) {
          if (i) { box.append(', '); }
          box.append($('<a target="_blank">').attr('href', r.url).text(r.text + ' (' + r.score + ' %)'));
        });
        box.show();
      });
    };
    form.find('[name="surname"],[name="first_name"],[name="birth_date"]').on('change blur', check);
  }
});
