// Filters: words, copy kind, outlet, has conflicts, dates. A story shows when it passes every
// filter; inside it, a copy-kind or outlet filter keeps only the documents that match. Words
// are searched in what a reader reads, not in the signal bars ("spun 0.00") marked .nosearch.
// Without JavaScript the page reads in full (and a served page filters on the server).
(function () {
  var form = document.getElementById("filters");
  if (!form || form.getAttribute("action")) return;  // served: the server filters
  var $ = function (id) { return document.getElementById(id); };
  var box = $("filter"), kind = $("filter-kind"), outlet = $("filter-outlet"),
      conflicts = $("filter-conflicts"), from = $("filter-from"), to = $("filter-to"),
      count = $("filter-count");
  var rows = [].slice.call(document.querySelectorAll("tr.story-row"));
  var sections = {};
  [].forEach.call(document.querySelectorAll("section.story[data-story]"), function (s) {
    sections[s.getAttribute("data-story")] = s;
  });
  var texts = {};
  function readable(el) {
    var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        return node.parentNode.closest(".nosearch") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      }
    });
    var parts = [], node;
    while ((node = walker.nextNode())) parts.push(node.nodeValue);
    return parts.join(" ").toLowerCase();
  }
  function textOf(id, row) {
    if (!(id in texts)) texts[id] = readable(sections[id] || row);
    return texts[id];
  }
  function passes(el, id, words) {
    if (kind.value && (" " + el.getAttribute("data-kinds") + " ").indexOf(" " + kind.value + " ") < 0) return false;
    if (outlet.value && el.getAttribute("data-outlets").split("|").indexOf(outlet.value) < 0) return false;
    if (conflicts.checked && el.getAttribute("data-conflicts") === "0") return false;
    var first = el.getAttribute("data-first"), last = el.getAttribute("data-last");
    if ((from.value || to.value) && !first) return false;
    if (from.value && last < from.value) return false;
    if (to.value && first > to.value) return false;
    if (words.length) {
      var text = textOf(id, el);
      for (var i = 0; i < words.length; i++) if (text.indexOf(words[i]) < 0) return false;
    }
    return true;
  }
  function apply() {
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    var active = words.length || kind.value || outlet.value || conflicts.checked || from.value || to.value;
    rows.forEach(function (row) {
      var id = row.getAttribute("data-story"), ok = passes(row, id, words), section = sections[id];
      row.classList.toggle("hidden", !ok);
      if (section) section.classList.toggle("hidden", !ok);
      if (ok) shown++;
      if (section && ok) {
        [].forEach.call(section.querySelectorAll(".doc"), function (doc) {
          var keep = (!kind.value || doc.getAttribute("data-kind") === kind.value) &&
                     (!outlet.value || doc.getAttribute("data-outlet") === outlet.value);
          doc.classList.toggle("hidden", !keep);
        });
        [].forEach.call(section.querySelectorAll("article.family"), function (family) {
          family.classList.toggle("hidden", !family.querySelector(".doc:not(.hidden)"));
        });
      }
    });
    count.textContent = active ? shown + (shown === 1 ? " story matches" : " stories match") : "";
  }
  var timer = null;
  function later() { clearTimeout(timer); timer = setTimeout(apply, 120); }
  box.addEventListener("input", later);
  [kind, outlet, conflicts, from, to].forEach(function (el) { el.addEventListener("change", apply); });
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  if (box.value || kind.value || outlet.value || conflicts.checked || from.value || to.value) apply();

  // Sort the overview by a column (numbers largest first, dates earliest first).
  var table = $("overview-table");
  if (!table) return;
  [].forEach.call(table.querySelectorAll("th[data-sort]"), function (th) {
    th.title = "sort by " + th.textContent;
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-sort"), body = table.tBodies[0];
      var attr = key === "outlets" ? "data-outlets-n" : "data-" + key;
      var sorted = [].slice.call(body.rows).sort(function (a, b) {
        var x = a.getAttribute(attr), y = b.getAttribute(attr);
        if (key === "first") return (x || "9999").localeCompare(y || "9999");
        if (key === "rank") return Number(x) - Number(y);
        return Number(y) - Number(x) || Number(a.getAttribute("data-rank")) - Number(b.getAttribute("data-rank"));
      });
      sorted.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
