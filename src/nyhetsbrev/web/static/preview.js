// nyhetsbrev preview: reload the page when the issue has been rebuilt (server-sent events).
// An external file, so the page's Content-Security-Policy can forbid every inline script.
(function () {
  "use strict";
  var shown = document.body.getAttribute("data-generation");
  var live = document.getElementById("live");
  var source = new EventSource("/events");
  source.addEventListener("build", function (event) {
    if (event.data !== shown) {
      source.close();
      window.location.reload();
    }
  });
  source.addEventListener("open", function () {
    if (live) live.classList.remove("offline");
  });
  source.addEventListener("error", function () {
    if (live) live.classList.add("offline"); // the browser reconnects by itself
  });
})();
