/* Fachstelle: type-ahead references, German date pickers, street picker, duplicate warning. */

// German texts for bootstrap-datepicker (FAB ships only the English ones); must exist before the pickers start.
if ($.fn.datepicker) {
  $.fn.datepicker.dates.de = {
    days: ['Sonntag', 'Montag', 'Dienstag', 'Mittwoch', 'Donnerstag', 'Freitag', 'Samstag'],
    daysShort: ['So', 'Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa'], daysMin: ['So', 'Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa'],
    months: ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober',
             'November', 'Dezember'],
    monthsShort: ['Jan', 'Feb', 'Mär', 'Apr', 'Mai', 'Jun', 'Jul', 'Aug', 'Sep', 'Okt', 'Nov', 'Dez'],
    today: 'Heute', clear: 'Löschen', weekStart: 1, format: 'dd.mm.yyyy'
  };
  $.fn.datepicker.defaults.language = 'de';
}
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

  // Street picker: suggestions from the street directory fill PLZ, Ort and Ortsteil; free entry stays possible.
  $('input[name="street"]').each(function (n) {
    var input = $(this), id = 'fs-streets-' + n, list = $('<datalist>').attr('id', id), found = {}, timer = null;
    input.attr('list', id).attr('autocomplete', 'off').after(list);
    input.on('input', function () {
      var s = found[input.val()];
      if (s) { pick(s); return; }  // chosen from the list
      clearTimeout(timer);
      timer = setTimeout(function () {
        $.getJSON('/typeahead-street', {q: input.val()}, function (d) {
          var count = {};
          d.results.forEach(function (r) { count[r.street] = (count[r.street] || 0) + 1; });
          list.empty(); found = {};
          d.results.forEach(function (r) {
            // A street in several postcodes is offered once per postcode, so the choice says which.
            var value = count[r.street] > 1 ? r.text : r.street;
            found[value] = r;
            list.append($('<option>').attr('value', value).text(r.text));
          });
        });
      }, 150);
    });
    var pick = function (s) {
      var form = input.closest('form');
      input.val(s.street);
      [['postcode', s.postcode], ['city', s.city], ['district', s.district]].forEach(function (kv) {
        var f = form.find('[name="' + kv[0] + '"]');
        if (f.length && kv[1]) { f.val(kv[1]).trigger('change'); }
      });
    };
    input.on('change', function () { var s = found[input.val()]; if (s) { pick(s); } });
  });

  // Duplicate warning on the partner form.
  var surname = $('form input[name="surname"]');
  if (surname.length && $('form input[name="birth_date"]').length) {
    var form = surname.closest('form'), box = $('<div class="alert alert-warning fs-dup-warning" role="alert" style="display:none"></div>');
    surname.closest('td, .form-group').first().append(box);  // inside the field's cell, under its help text
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

/* Forms a clerk fills all day: German select boxes and the cursor in the first field to fill. */
$(function () {
  // FAB starts its select boxes with an English placeholder and shows the empty choice as "__None".
  var german = {noResults: function () { return 'Keine Treffer'; }, searching: function () { return 'Suche …'; }};
  $('select.my_select2').each(function () {
    var el = $(this), blank = el.find('option[value="__None"]').length > 0;
    el.select2({theme: 'bootstrap', language: german, allowClear: blank || el.prop('multiple'),
                placeholder: el.prop('multiple') ? 'bitte wählen …' : (blank ? {id: '__None', text: 'bitte wählen …'} : undefined)});
  });

  // Keyboard flow: the cursor starts in the first faulty field, else the first required empty field (else the first).
  var form = $('#model_form');
  if (!form.length || $('[autofocus]').length) { return; }
  // Date fields are skipped: their picker would pop open over the form before the clerk starts.
  var fields = form.find('input:not([type=hidden]):not([type=checkbox]), select, textarea').filter(function () {
    return !$(this).prop('disabled') && !$(this).prop('readonly') && !$(this).hasClass('fs-date');
  });
  var empty = function () { var v = $(this).val(); return v === '' || v === null || v === '__None'; };
  var required = fields.filter(function () {
    return $(this).closest('tr').find('label strong').length > 0;
  }).filter(empty);
  // After a refused save the cursor goes to the first field with an error message (#11).
  var faulty = form.find('.alert-danger').first().closest('tr, .form-group')
    .find('input:not([type=hidden]):not([type=checkbox]), select, textarea').first();
  var first = faulty.length ? faulty : (required.length ? required : fields).first();
  if (first.is('select') && first.next('.select2').length) {
    first.next('.select2').find('.select2-selection').trigger('focus');
  } else {
    first.trigger('focus');
  }
});

/* A focused type-ahead box opens on the first letter typed and keeps it, as a plain input would. */
$(document).on('keydown', '.select2-container .select2-selection--single', function (e) {
  if (e.key.length !== 1 || e.ctrlKey || e.altKey || e.metaKey) { return; }
  var select = $(this).closest('.select2-container').prev('select');
  if (!select.data('select2')) { return; }
  e.preventDefault();
  // Select2 moves the focus to its search box a moment after opening: letters typed fast before that
  // land here and are appended, so none is lost.
  var wasOpen = select.data('select2').isOpen();
  if (!wasOpen) { select.select2('open'); }
  var search = $('.select2-container--open .select2-search__field');
  search.val((wasOpen ? search.val() : '') + e.key).trigger('input');
  if (search.length) { search[0].focus(); }
});

/* jQuery 3.6 breaks Select2's own focus call on open: focus its search box natively, so typing goes there. */
$(document).on('select2:open', function () {
  var search = document.querySelector('.select2-container--open .select2-search__field');
  if (search) { search.focus(); }
});

/* #13: a form with data-confirm asks before it is sent (the loan actions, the treasury export); no inline
   handler, so the Content-Security-Policy stays strict. */
document.addEventListener('submit', function (e) {
  var form = e.target;
  if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    e.preventDefault();
  }
}, true);
