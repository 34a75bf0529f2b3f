/* The page tools: the panel pack's links, the print button, and the printed page's header and footer.
 *
 * A pack link is a plain <a>: just before it can be used (pointer over it, focus, any click) its
 * href gets the page's path and query (and suppress=1 for the publication copy); the server
 * cleans that query like any other. The print button prints; before printing, the page's header
 * (footprint and period, from the filter bar's summary) and footer (the data's as-at date) are put
 * into the @page margin boxes through the CSS object model (no inline style: the CSP allows none).
 */
(function () {
  var PACK = "a[data-pack]";
  var PRINT = "button[data-print]";

  function packHref(link) {
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    params.delete("pages");
    params.delete("suppress");
    if (link.getAttribute("data-pack") === "all") { params.set("pages", "all"); }
    params.set("page", window.location.pathname);
    if (link.getAttribute("data-suppress") === "1") { params.set("suppress", "1"); }
    return "/download/pack.xlsx?" + params.toString();
  }
  function refresh(event) {
    var link = event.target.closest && event.target.closest(PACK);
    if (link) { link.setAttribute("href", packHref(link)); }
  }
  ["pointerover", "focusin", "mousedown", "contextmenu", "click"].forEach(function (name) {
    document.addEventListener(name, refresh, true);
  });

  var sheet = null;
  function quoted(text) { return '"' + text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\s+/g, " ") + '"'; }
  function marginBoxes() {
    var summary = document.getElementById("filter-summary");
    var asAt = document.getElementById("as-at");
    var header = "Deaths by hospital trust";
    if (summary && summary.textContent) {
      header += " · " + summary.textContent.replace(/^Showing deaths in hospitals of /, "").split(";")[0].replace(/\.$/, "");
    }
    var footer = asAt && asAt.textContent ? asAt.textContent.trim() : "";
    var rule = "@page { @top-left { content: " + quoted(header) + "; } @bottom-left { content: " + quoted(footer) + "; } }";
    try {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
      }
      sheet.replaceSync(rule);
    } catch (error) { /* an older browser prints without the header */ }
  }
  window.addEventListener("beforeprint", marginBoxes);
  if (window.matchMedia) {
    var media = window.matchMedia("print");
    if (media.addEventListener) { media.addEventListener("change", function (e) { if (e.matches) { marginBoxes(); } }); }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(PRINT);
    if (!button) { return; }
    marginBoxes();
    window.print();
  });
})();
