// Filter: hide stories, families, documents and table rows whose text does not contain every word typed.
(function () {
  var box = document.getElementById("filter"), count = document.getElementById("filter-count");
  var items = Array.prototype.slice.call(document.querySelectorAll(".filterable"));
  var texts = null, timer = null;
  function apply() {
    if (texts === null) texts = items.map(function (el) { return el.textContent.toLowerCase(); });
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    items.forEach(function (el, i) {
      var ok = words.every(function (w) { return texts[i].indexOf(w) >= 0; });
      el.classList.toggle("hidden", !ok);
      if (ok && el.classList.contains("doc")) shown++;
    });
    count.textContent = words.length ? shown + (shown === 1 ? " document matches" : " documents match") : "";
  }
  box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
})();
