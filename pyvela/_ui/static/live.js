// The app page's live view: the server sends the state record's phases (server-sent
// events) whenever they change; this recolours the graph and fills the steps table in
// place. A new revision, or a run that just finished, reloads the page (objects, health
// and the diff are drawn by the server).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("pyvela-live").textContent);
  var indicator = document.getElementById("live");
  var PHASES = Object.keys(config.colours).filter(function (p) { return p !== ""; });
  var ACTIVE = ["running", "suspending", "pending"];
  var shownRevision = config.revision;
  var shownSteps = config.steps.slice().sort().join("\n");
  var runPhase = document.getElementById("run-phase").textContent.trim();

  function setPhase(el, phase) {
    var keep = (el.getAttribute("class") || "").split(/\s+/).filter(function (c) {
      return c && c.indexOf("phase-") !== 0;
    });
    keep.push("phase-" + (phase || "none"));
    el.setAttribute("class", keep.join(" "));
    el.setAttribute("data-phase", phase || "");
  }

  function colourNode(name, phase) {
    var node = document.getElementById("step-" + name);
    if (!node) { return; }
    setPhase(node, phase);
    if (node instanceof SVGElement) {
      var colour = config.colours[phase] || config.colours[""];
      node.querySelectorAll("path, polygon, ellipse").forEach(function (shape) {
        shape.setAttribute("fill", colour[0]);
        shape.setAttribute("stroke", colour[1]);
      });
      var texts = node.querySelectorAll("text");
      var last = texts[texts.length - 1];
      if (last && PHASES.indexOf(last.textContent.trim()) >= 0) { last.textContent = phase; }
    } else {
      var label = node.querySelector(".phase");
      if (label) { label.textContent = phase; }
    }
  }

  function fillRow(name, st) {
    var row = document.querySelector('#steps tr[data-step="' + CSS.escape(name) + '"]');
    if (!row) { return; }
    var cell = function (field) { return row.querySelector('[data-field="' + field + '"]'); };
    var badge = cell("phase");
    badge.textContent = st.phase;
    setPhase(badge, st.phase);
    badge.classList.add("badge");
    cell("reason").textContent = st.reason || "";
    cell("message").textContent = st.message || "";
    var outputs = st.outputs && Object.keys(st.outputs).length ? JSON.stringify(st.outputs) : "";
    cell("outputs").innerHTML = "";
    var code = document.createElement("code");
    code.textContent = outputs;
    cell("outputs").appendChild(code);
    cell("elapsed").textContent = st.elapsed === null || st.elapsed === undefined ? "" : st.elapsed.toFixed(1) + "s";
  }

  function apply(state) {
    var names = Object.keys(state.steps).sort().join("\n");
    if (state.revision !== shownRevision || names !== shownSteps) {
      window.location.reload();  // another revision: another graph
      return;
    }
    Object.keys(state.steps).forEach(function (name) {
      colourNode(name, state.steps[name].phase);
      fillRow(name, state.steps[name]);
    });
    var badge = document.getElementById("run-phase");
    badge.textContent = state.phase;
    setPhase(badge, state.phase);
    badge.classList.add("badge");
    document.getElementById("run-message").textContent = state.message || "";
    var finished = ACTIVE.indexOf(runPhase) >= 0 && ACTIVE.indexOf(state.phase) < 0;
    runPhase = state.phase;
    if (finished) { window.setTimeout(function () { window.location.reload(); }, 300); }
  }

  if (!window.EventSource) { indicator.textContent = "not live"; return; }
  var source = new EventSource(config.events);
  source.addEventListener("open", function () { indicator.className = "live on"; });
  source.addEventListener("error", function () { indicator.className = "live off"; });
  source.addEventListener("state", function (event) { apply(JSON.parse(event.data)); });
  source.addEventListener("failure", function (event) {
    document.getElementById("run-message").textContent = JSON.parse(event.data).error;
  });
})();
