// Draws every chart of a chorusline report (or of a web page that reuses its figures).
// A chart is <div class="chart" id="chart-NAME"> holding its Plotly figure as a JSON data block,
// <script type="application/json" class="figure">; data blocks are never executed, so a page with a
// Content-Security-Policy that forbids inline script can carry them and load this file.
// plotly.js is either loaded already (window.Plotly, e.g. a <script src>) or inlined gzipped and
// base64-encoded in <script type="application/gzip" id="plotly-js-gz"> (the single-file report);
// it is then unpacked with the browser's DecompressionStream and run once.
// Each chart keeps its height free (data-height, in px) until it is drawn; set here through the
// CSSOM, which a Content-Security-Policy without 'unsafe-inline' styles allows (a style attribute
// in the markup it would refuse).
(function () {
  "use strict";

  function reserveSpace() {
    for (const chart of document.querySelectorAll(".chart[data-height]")) {
      if (!chart.style.minHeight) chart.style.minHeight = parseInt(chart.dataset.height, 10) + "px";
    }
  }

  async function loadPlotly() {
    if (window.Plotly) return;
    const packed = document.getElementById("plotly-js-gz");
    if (!packed) throw new Error("plotly.js is neither loaded nor inlined");
    const bytes = Uint8Array.from(atob(packed.textContent.trim()), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    const code = await new Response(stream).text();
    const script = document.createElement("script");
    script.textContent = code;
    document.head.appendChild(script);
  }

  async function drawAll() {
    await loadPlotly();
    const config = { displaylogo: false, responsive: true };
    for (const chart of document.querySelectorAll(".chart[id]")) {
      const block = chart.querySelector("script.figure");
      if (!block || chart.dataset.drawn) continue;
      const figure = JSON.parse(block.textContent);
      await window.Plotly.newPlot(chart, figure.data, figure.layout, config);
      chart.dataset.drawn = "1";
    }
    document.documentElement.dataset.charts = "drawn";
  }

  function start() {
    reserveSpace();
    drawAll().catch((err) => {
      document.documentElement.dataset.charts = "failed";
      console.error("charts not drawn:", err);
    });
  }

  reserveSpace(); // the charts above this script, before the first paint
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
