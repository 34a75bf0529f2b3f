/* Tell the user, politely, when the server pauses their requests (429).
 *
 * Dash's renderer sends every callback with window.fetch and, on any answer
 * but 200 or 204, leaves the page as it was and reports the failure only to
 * its developer tools. This wraps fetch: when a callback comes back 429, a
 * notice (styled like the "data unavailable" one) says why and for how long,
 * and goes away by itself when the pause is over. The notice lives outside
 * Dash's React tree, so Dash never redraws over it. Nothing else changes: the
 * response still goes to the renderer as it came.
 */
(function () {
  var original = window.fetch;
  if (!original) { return; }
  var timer = null;

  function notice() {
    var box = document.getElementById("rate-limit-notice");
    if (!box) {
      box = document.createElement("div");
      box.id = "rate-limit-notice";
      box.className = "notice error rate-limit-notice";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    return box;
  }

  function show(seconds, message) {
    var box = notice();
    box.textContent = message + " Part of this page could not be updated: wait " + seconds +
      " seconds, then change a filter again or reload the page.";
    box.hidden = false;
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { box.hidden = true; }, seconds * 1000);
  }

  window.fetch = function (resource, options) {
    var url = typeof resource === "string" ? resource : (resource && resource.url) || "";
    var answer = original.apply(this, arguments);
    if (url.indexOf("_dash-update-component") === -1) { return answer; }
    return answer.then(function (response) {
      if (response.status === 429) {
        var seconds = parseInt(response.headers.get("Retry-After"), 10) || 10;
        response.clone().json().then(function (body) {
          show(seconds, (body && body.error) || "The server is busy with your earlier requests.");
        }, function () { show(seconds, "The server is busy with your earlier requests."); });
      }
      return response;
    });
  };
})();
