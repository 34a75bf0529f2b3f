/* The navigation keeps the view's query (its filters) from page to page.
 *
 * Each link is a plain <a href="/path">: without this script it still opens its
 * page (a full load, without the filters). With it, a click opens the page as
 * Dash's own dcc.Link does (history.pushState, then the event dcc.Location
 * listens for), with the current query; and just before a link can be used
 * another way (pointer over it, focus, a middle or right click) its href is
 * brought up to date, so a new tab or a copied address keeps the filters too.
 *
 * This replaced a callback that rewrote every link's href on every filter
 * change: a dozen updates through Dash's store for each change, each one
 * visiting every component on the page, for links nobody was using yet.
 */
(function () {
  var SELECTOR = "nav.nav a.nav-link[data-path]";

  function current(link) {
    return link.getAttribute("data-path") + window.location.search;
  }
  function refresh(event) {
    var link = event.target.closest && event.target.closest(SELECTOR);
    if (link && link.getAttribute("href") !== current(link)) { link.setAttribute("href", current(link)); }
  }
  ["pointerover", "focusin", "mousedown", "contextmenu"].forEach(function (name) {
    document.addEventListener(name, refresh, true);
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(SELECTOR);
    if (!link || event.defaultPrevented || event.button !== 0) { return; }
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) { return; }
    event.preventDefault();
    window.history.pushState({}, "", current(link));
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
  });
})();
