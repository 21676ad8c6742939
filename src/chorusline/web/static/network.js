// The campaign page's network view: the fused ties among the members, from
// /api/v1/campaigns/ID/network, filtered on the server by signal family, minimum weight and role.
// Click an account to open its page; the search box centres and highlights matches.
(function () {
  "use strict";
  var form = document.getElementById("network-filters");
  var box = document.getElementById("network");
  var status = document.getElementById("network-status");
  if (!form || !box || typeof cytoscape !== "function") { return; }
  var campaign = form.getAttribute("data-campaign");
  var weight = document.getElementById("min-weight");
  var weightValue = document.getElementById("min-weight-value");
  var search = document.getElementById("search");
  var cy = cytoscape({
    container: box,
    style: [
      { selector: "node", style: {
        "background-color": "mapData(score, 0, 0.7, #9db7d6, #0b3d7a)", "width": "mapData(score, 0, 0.7, 10, 26)",
        "height": "mapData(score, 0, 0.7, 10, 26)", "border-width": 1, "border-color": "#222" } },
      { selector: "node[platform = 'llm-api']", style: {
        "shape": "round-rectangle", "background-color": "mapData(score, 0, 0.7, #f2c29b, #8a3a00)" } },
      { selector: "node[?flagged]", style: { "border-width": 2.5 } },
      { selector: "edge", style: {
        "width": "mapData(weight, 0, 4, 0.5, 5)", "line-color": "#8c8c8c", "opacity": 0.6, "curve-style": "haystack" } },
      { selector: ".match", style: { "border-color": "#d40000", "border-width": 5 } },
      { selector: ".faded", style: { "opacity": 0.15 } }
    ]
  });

  window.chorusNetwork = cy;  // for the browser tests and the console

  function query() {
    var params = new URLSearchParams();
    form.querySelectorAll("input[name=family]:checked").forEach(function (c) { params.append("family", c.value); });
    params.set("min_weight", weight.value);
    var role = document.getElementById("role").value;
    if (role) { params.set("role", role); }
    return params;
  }

  function load() {
    var params = query();
    var families = form.querySelectorAll("input[name=family]");
    if (families.length && !params.getAll("family").length) {  // no family ticked: no tie
      params.set("min_weight", "1e9");
    }
    status.textContent = "Loading the network…";
    fetch("/api/v1/campaigns/" + encodeURIComponent(campaign) + "/network?" + params.toString(),
          { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(draw)
      .catch(function (err) { status.textContent = "The network could not be loaded (" + err.message + ")."; });
  }

  function draw(net) {
    var linked = {};
    net.edges.forEach(function (e) { linked[e.source] = true; linked[e.target] = true; });
    var elements = net.nodes.filter(function (n) { return linked[n.actor]; }).map(function (n) {
      return { data: { id: n.actor, platform: n.platform, score: n.member_score || 0, flagged: !!n.flagged } };
    });
    net.edges.forEach(function (e, i) {
      elements.push({ data: { id: "e" + i, source: e.source, target: e.target, weight: e.weight,
                              families: Object.keys(e.families).join(", ") } });
    });
    cy.elements().remove();
    cy.add(elements);
    cy.layout({ name: "cose", animate: false, randomize: true, nodeRepulsion: function () { return 6000; } }).run();
    var shown = cy.nodes().length;
    status.textContent = shown + " accounts and " + net.edges.length + " ties shown" +
      (net.truncated ? " (the strongest " + net.edges.length + " of " + net.edges_total + ")" : "") + ".";
    status.setAttribute("data-nodes", String(shown));
    status.setAttribute("data-edges", String(net.edges.length));
    highlight();
  }

  function highlight() {
    var text = search.value.trim().toLowerCase();
    cy.elements().removeClass("match faded");
    if (!text) { return; }
    var hits = cy.nodes().filter(function (n) { return n.id().toLowerCase().indexOf(text) >= 0; });
    if (hits.length) {
      cy.elements().addClass("faded");
      hits.removeClass("faded").addClass("match");
      cy.fit(hits, 80);
    }
    status.textContent = status.textContent.replace(/ \d+ match(es)? for .*$/, "") +
      " " + hits.length + (hits.length === 1 ? " match" : " matches") + " for “" + search.value.trim() + "”.";
  }

  cy.on("tap", "node", function (evt) {
    window.location.href = "/accounts/" + encodeURIComponent(evt.target.id()).replace(/%3A/g, ":");
  });
  form.addEventListener("change", function (evt) {
    if (evt.target !== search) { load(); }
  });
  weight.addEventListener("input", function () { weightValue.textContent = weight.value; });
  document.getElementById("search-button").addEventListener("click", highlight);
  search.addEventListener("keydown", function (evt) {
    if (evt.key === "Enter") { evt.preventDefault(); highlight(); }
  });
  form.addEventListener("submit", function (evt) { evt.preventDefault(); });
  load();
}());
