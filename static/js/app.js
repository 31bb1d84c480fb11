// Progressive touches; every page works without them.
(function () {
  "use strict";
  document.documentElement.classList.add("has-js");
  document.body.classList.add("has-js");

  // Copy buttons: shown only when the clipboard can be used.
  document.querySelectorAll(".js-copy").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.copyTarget);
      if (!target) { return; }
      var text = target.value !== undefined ? target.value : target.textContent;
      navigator.clipboard.writeText(text.trim()).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        button.classList.add("btn-success");
        setTimeout(function () { button.textContent = label; button.classList.remove("btn-success"); }, 1500);
      });
    });
  });

  // Local time beside each UTC time.
  document.querySelectorAll("time.js-local-time").forEach(function (node) {
    var moment = new Date(node.getAttribute("datetime"));
    if (isNaN(moment.getTime())) { return; }
    var local = document.createElement("span");
    local.className = "text-body-secondary ms-1 local-time";
    local.textContent = "(" + moment.toLocaleString() + " your time)";
    node.after(local);
  });
})();

// ==== Console: the generator offers only the presets within the chosen key's maximum ====
(function () {
  "use strict";
  var key = document.getElementById("key");
  var lifetime = document.getElementById("lifetime");
  if (!key || !lifetime || !document.getElementById("generator")) { return; }
  // The server draws every preset (the page works without script); hide the ones beyond the
  // chosen key's maximum. On load the chosen preset stays, even beyond it: the server has
  // drawn its refusal beside it.
  function offerPresets(keepChosen) {
    var chosen = key.options[key.selectedIndex];
    var limit = chosen ? Number(chosen.dataset.maxLifetime) : Infinity;
    var allowed = [];
    Array.prototype.forEach.call(lifetime.options, function (option) {
      var fits = Number(option.dataset.seconds) <= limit || (keepChosen && option.selected);
      option.hidden = !fits;
      option.disabled = !fits;
      if (fits) { allowed.push(option); }
    });
    var current = lifetime.options[lifetime.selectedIndex];
    if ((!current || current.disabled) && allowed.length) {
      // Keep the default (1h) when it fits, else the longest preset that does.
      var preferred = allowed.filter(function (o) { return o.value === "1h"; })[0];
      (preferred || allowed[allowed.length - 1]).selected = true;
    }
  }
  offerPresets(true);
  key.addEventListener("change", function () { offerPresets(false); });
})();
// ==== end Console ====

// ==== Inspector: Ctrl+Enter (Cmd+Enter) checks the paste; the moment's help names the viewer's offset ====
(function () {
  "use strict";
  var form = document.getElementById("inspector");
  if (!form) { return; }
  var paste = form.querySelector("textarea[name=token]");
  if (paste) {
    paste.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      }
    });
  }
  var at = form.querySelector("[data-offset-hint]");
  var help = at && document.getElementById(at.id + "-help");
  if (help) {
    var minutes = -new Date().getTimezoneOffset();
    var sign = minutes < 0 ? "-" : "+";
    var abs = Math.abs(minutes);
    var offset = sign + String(Math.floor(abs / 60)).padStart(2, "0") + ":" + String(abs % 60).padStart(2, "0");
    var note = document.createElement("span");
    note.className = "d-block local-offset";
    note.textContent = "Your local time is UTC" + offset + ": add " + offset + " to a time read from your own clock.";
    help.appendChild(note);
  }
})();
// ==== end Inspector ====
