/* deltaprop report: draws the charts (plotly.js, inline above) and wires the network diagram to
   the derivations that Python stored in the page. The page computes no gradient: every number
   it shows was written by deltaprop when the report was made. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var params = {};
  data.parameters.forEach(function (p) { params[p.id] = p; });
  var state = { param: null, example: 0, notation: "3b1b" };
  var stored = { derivations: {}, symbols: {} };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function byId(id) { return document.getElementById(id); }

  /* ------------------------------------------------------------------ charts */
  function drawCharts() {
    var config = { displaylogo: false, responsive: true };
    var pending = [];
    Object.keys(data.figures).forEach(function (name) {
      var el = byId("fig-" + name);
      if (!el) { return; }
      var fig = data.figures[name];
      fig.layout.template = data.plotly_template;
      pending.push(Plotly.newPlot(el, { data: fig.data, layout: fig.layout, frames: fig.frames || [], config: config }));
    });
    return Promise.all(pending);
  }

  /* ------------------------------------------------------------------ stored derivations */
  function inflate() {
    var text = byId("derivations").textContent.trim();
    if (!text) { return Promise.resolve({ derivations: {}, symbols: {} }); }
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot read the stored derivations (no DecompressionStream); use a current Chrome, Edge, Firefox or Safari"));
    }
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  /* ------------------------------------------------------------------ the panel */
  function fillPickers() {
    var picker = byId("param-picker");
    var groups = {};
    data.parameters.forEach(function (p) {
      var key = (p.kind === "weight" ? "weights W" : "biases b") + p.l;
      if (!groups[key]) {
        groups[key] = document.createElement("optgroup");
        groups[key].label = p.kind === "weight"
          ? "W" + p.l + ": layer " + (p.l - 1) + " → " + p.l
          : "b" + p.l + ": biases of layer " + p.l;
      }
      var opt = document.createElement("option");
      opt.value = p.id;
      opt.textContent = p.ref + " = " + p.value + (p.derived ? "" : "  (not stored)");
      groups[key].appendChild(opt);
    });
    Object.keys(groups).sort(function (a, b) {
      var la = +a.replace(/\D/g, ""), lb = +b.replace(/\D/g, "");
      return la - lb || (a < b ? 1 : -1);
    }).forEach(function (k) { picker.appendChild(groups[k]); });

    var ex = byId("example-picker");
    data.examples.forEach(function (e, i) {
      var opt = document.createElement("option");
      opt.value = String(i);
      opt.dataset.row = String(e.row);
      var text = "training #" + e.row;
      if (e.label !== undefined) {
        text += " (class " + e.label + (e.correct ? "" : ", predicted " + e.predicted) + ")";
      }
      opt.textContent = text;
      ex.appendChild(opt);
    });
    if (!data.examples.length) { ex.disabled = true; }

    var nt = byId("notation-picker");
    Object.keys(data.notations).forEach(function (key) {
      var opt = document.createElement("option");
      opt.value = key;
      opt.textContent = data.notations[key];
      nt.appendChild(opt);
    });

    picker.addEventListener("change", function () { select(picker.value); });
    ex.addEventListener("change", function () { state.example = +ex.value; render(); });
    nt.addEventListener("change", function () { state.notation = nt.value; render(); });
  }

  function select(id) {
    if (!params[id]) { return; }
    state.param = id;
    byId("param-picker").value = id;
    render();
    var panel = byId("panel");
    if (panel) { panel.scrollTop = 0; }
  }

  function exampleInfo() {
    var e = data.examples[state.example];
    if (!e) { return ""; }
    var out = "";
    if (e.image) { out += '<img alt="training example ' + e.row + '" src="' + e.image + '">'; }
    var text = "training example #" + e.row + " (row " + e.row + " of the training split)";
    if (e.x) { text += ", raw x = (" + e.x.join(", ") + ")"; }
    if (e.label !== undefined) {
      text += "; class " + esc(e.label) + ", predicted " + esc(e.predicted) + " with p = " + e.p;
    } else if (e.target !== undefined) {
      text += "; target " + esc(JSON.stringify(e.target));
    }
    return out + "<span>" + esc(text) + "</span>";
  }

  function render() {
    var p = params[state.param];
    var header = byId("param-header"), body = byId("derivation");
    byId("example-info").innerHTML = exampleInfo();
    document.querySelectorAll("#network-svg .selected").forEach(function (el) { el.classList.remove("selected"); });
    if (!p) { return; }
    var node = document.querySelector('#network-svg [data-param="' + p.id + '"]');
    if (node) { node.classList.add("selected"); }
    var sym = (stored.symbols[p.id] || {})[state.notation];
    header.innerHTML = (sym ? sym + " = " : (p.kind === "weight" ? "w = " : "b = ")) +
      '<span class="value">' + esc(p.value) + "</span> &nbsp;<code>" + esc(p.ref) + "</code>" +
      '<div class="small">' + esc(p.joins) + "</div>";
    var per = stored.derivations[p.id];
    if (!per || !per[state.example]) {
      var ex = data.examples[state.example];
      var cmd = "deltaprop explain " + (data.model || "MODEL.npz") + " " + p.cli + " --split train" +
        (ex ? " --sample " + ex.row : "") + " --notation " + state.notation;
      body.innerHTML = '<p class="not-stored">The page does not store this parameter\'s derivation ' +
        "(it keeps a bounded number, see under the diagram). In a terminal:</p><pre>" + esc(cmd) + "</pre>";
      body.dataset.param = p.id;
      return;
    }
    var html = per[state.example][state.notation];
    if (p.decay !== undefined) {
      html += '<p class="decay">In training, the L2 penalty adds (λ/n)·w = ' + data.l2 + "/" + data.n_train +
        " · " + esc(p.value) + " = " + esc(p.decay) + " to this weight's gradient (weight decay).</p>";
    }
    body.innerHTML = html;
    body.dataset.param = p.id;
    body.dataset.example = String(data.examples[state.example].row);
    body.dataset.notation = state.notation;
  }

  function wireDiagram() {
    var svg = byId("network-svg");
    if (!svg) { return; }
    svg.addEventListener("click", function (event) {
      var target = event.target.closest("[data-param]");
      if (target) { select(target.getAttribute("data-param")); }
    });
  }

  /* Open on the stored parameter with the largest |gradient| for a correctly classified example
     (data.openings, chosen in Python); offer the same for a misclassified one. */
  function openAt(where) {
    var o = data.openings[where];
    state.example = o.example;
    byId("example-picker").value = String(o.example);
    select(o.param);
  }

  function defaultParam() {
    var derived = data.parameters.filter(function (p) { return p.derived; });
    var pick = derived[0] || data.parameters[0];
    return pick ? pick.id : null;
  }

  function opening() {
    var o = data.openings || {};
    var box = byId("openings");
    if (box && o.wrong) {
      var b = document.createElement("button");
      b.type = "button";
      b.id = "open-wrong";
      b.textContent = "largest gradient for a misclassified example (#" + o.wrong.row + ")";
      b.addEventListener("click", function () { openAt("wrong"); });
      var r = document.createElement("button");
      r.type = "button";
      r.id = "open-right";
      r.textContent = "… for a correctly classified one (#" + o.right.row + ")";
      r.addEventListener("click", function () { openAt("right"); });
      box.appendChild(document.createTextNode("open on: "));
      box.appendChild(b);
      box.appendChild(r);
    }
    if (o.right) { openAt("right"); } else { select(defaultParam()); }
  }

  fillPickers();
  wireDiagram();
  var charts = drawCharts();
  var derivations = inflate().then(function (d) {
    stored = d;
    opening();
  });
  Promise.all([charts, derivations]).then(function () {
    document.body.dataset.ready = "1";
  }, function (err) {
    document.body.dataset.ready = "error";
    byId("derivation").innerHTML = '<p class="note">' + esc(err && err.message ? err.message : err) + "</p>";
    throw err;
  });
})();
