// Follows the richiesta's state through the page's event stream: no
// polling by hand, and without JavaScript the page refreshes itself.
(function () {
  "use strict";
  var c = document.getElementById("status-config");
  if (!c || c.getAttribute("data-final") === "true" || !window.EventSource) { return; }
  var es = new EventSource(c.getAttribute("data-events"));
  es.addEventListener("stato", function (e) {
    var d = JSON.parse(e.data), s = document.getElementById("stato");
    s.textContent = d.Label;
    s.setAttribute("data-stato", d.Stato);
    if (d.Ready) { document.getElementById("download").hidden = false; }
    if (d.Final) { document.getElementById("waiting").hidden = true; es.close(); }
  });
}());
